//! Randomized smoke test of the fuzz entry point: random bytes, YAML-ish token soup and
//! mutations of the Talos fixtures must never panic. Seeded, so failures reproduce.
#![allow(clippy::unwrap_used)]

mod common;

use basalt_config::fuzz::decode_and_validate;
use basalt_config::MachineConfig;

/// xorshift64*: tiny, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "version: v1alpha1\n",
    "machine:\n",
    "cluster:\n",
    "  ",
    "    ",
    "- ",
    ": ",
    "\n",
    "---\n",
    "&a ",
    "*a",
    "<<: ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "|\n",
    ">-\n",
    "!!str ",
    "!!binary ",
    "~",
    "null",
    "true",
    "0o644",
    "0x1F",
    "1e309",
    "-.inf",
    "apiVersion: v1alpha1\n",
    "kind: NetworkRuleConfig\n",
    "type: controlplane\n",
    "interfaces:\n",
    "mtu: ",
    "65536",
    "\t",
    "#",
    "%YAML 1.2\n",
    "? ",
    "é",
    "\u{feff}",
];

fn mutate(rng: &mut Rng, base: &str) -> Vec<u8> {
    let mut lines: Vec<String> = base.lines().map(str::to_string).collect();
    for _ in 0..1 + rng.below(4) {
        let i = rng.below(lines.len());
        match rng.below(4) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            2 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            _ => {
                let l = &mut lines[i];
                if !l.is_empty() {
                    let cut = rng.below(l.len());
                    if l.is_char_boundary(cut) {
                        l.truncate(cut);
                    }
                }
            }
        }
    }
    let mut bytes = lines.join("\n").into_bytes();
    for _ in 0..rng.below(3) {
        let i = rng.below(bytes.len());
        bytes[i] ^= 1 << rng.below(8);
    }
    bytes
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0;
    for round in 0..3000 {
        let input: Vec<u8> = match round % 3 {
            0 => (0..rng.below(256)).map(|_| rng.next() as u8).collect(),
            1 => (0..rng.below(64))
                .map(|_| TOKENS[rng.below(TOKENS.len())])
                .collect::<String>()
                .into_bytes(),
            _ => mutate(
                &mut rng,
                if round % 2 == 0 {
                    common::CONTROLPLANE
                } else {
                    common::WORKER
                },
            ),
        };
        decode_and_validate(&input);
        // Whatever decodes must also survive save → load unchanged.
        if let Ok(cfg) = MachineConfig::from_bytes(&input) {
            decoded += 1;
            let text = cfg.to_yaml().unwrap();
            assert_eq!(
                MachineConfig::from_yaml(&text).unwrap(),
                cfg,
                "round {round}:\n{text}"
            );
        }
    }
    assert!(
        decoded > 100,
        "the mutations should often stay valid YAML; only {decoded} decoded"
    );
}

#[test]
fn hostile_shapes_are_refused_not_crashed() {
    let deep = format!(
        "version: v1alpha1\nmachine:\n  kubelet:\n    extraConfig: {}\n",
        "[".repeat(10_000)
    );
    assert!(MachineConfig::from_yaml(&deep).is_err());
    let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        laughs.push_str(&format!(
            "b{i}: &b{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
            p = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            }
        ));
    }
    let err = MachineConfig::from_yaml(&laughs).unwrap_err().to_string();
    assert!(err.contains("nodes"), "{err}");
}
