//! `basalt`: the multi-call binary of a Basalt node.
//!
//! Dispatch on argv[1]: `init`, `machined`, `launch`, `runner`, `apid`, `trustd`, `version`; when started
//! as `init` (argv[0] basename, as the kernel starts `/init` from the initramfs), it is the
//! verified boot path into the image (`basalt_machined::initramfs`). All logic lives in
//! `basalt-machined`, `basalt-apid` and `basalt-trustd`.

use std::path::Path;

const USAGE: &str = "usage: basalt init   (the initramfs boot path; normally started by the kernel as /init)
       basalt machined --platform container|metal [basalt.config=PATH] [basalt.maintenance-ca=PATH]
       basalt launch --root DIR --state DIR --ephemeral DIR [--hostname H] [--config FILE] [--maintenance-ca FILE] [--socket-dir DIR] [--exe PATH]
       basalt apid [--socket PATH] [--listen ADDR:PORT] [--maintenance] [--maintenance-ca FILE] [--cert-lifetime 24h]
       basalt trustd [--socket PATH] [--listen ADDR:PORT] [--cert-lifetime 24h]
       basalt runner [--rlimit RES=SOFT:HARD] [--oom-score-adj N] [--drop-cap CAP]... -- ARGV...
       basalt version";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    std::process::exit(dispatch(args));
}

fn dispatch(args: Vec<String>) -> i32 {
    let argv0 = args.first().cloned().unwrap_or_default();
    let name = Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name == "init" {
        return basalt_machined::initramfs::main();
    }
    let rest: Vec<String> = args.iter().skip(2).cloned().collect();
    match args.get(1).map(String::as_str) {
        Some("init") => basalt_machined::initramfs::main(),
        Some("machined") => basalt_machined::machine::main(&argv0, &rest),
        Some("launch") => basalt_machined::platform::container::main(&rest),
        Some("runner") => basalt_machined::process::wrapper::main(rest),
        Some("apid") => basalt_apid::main(rest),
        Some("trustd") => basalt_trustd::main(rest),
        Some("version") => {
            println!("basalt {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            0
        }
        Some(other) => {
            eprintln!("basalt: unknown command {other:?}\n{USAGE}");
            2
        }
        None => {
            eprintln!("{USAGE}");
            2
        }
    }
}
