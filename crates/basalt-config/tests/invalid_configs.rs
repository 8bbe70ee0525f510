//! Table of invalid configs, each with the exact error lines it must produce.
//!
//! Every case starts from a Talos-generated fixture and applies small textual edits, so
//! the expected line numbers can be read straight off the fixture.
#![allow(clippy::unwrap_used)]

mod common;

use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;
use common::{edit, CONTROLPLANE as CP, WORKER};

/// One invalid config and what it must produce.
struct Case {
    name: &'static str,
    text: String,
    mode: Mode,
    /// Decode error, or every validation error in order.
    expected: Vec<String>,
}

fn case(name: &'static str, text: String, mode: Mode, expected: &[&str]) -> Case {
    Case {
        name,
        text,
        mode,
        expected: expected.iter().map(ToString::to_string).collect(),
    }
}

/// Errors of `text`: the decode error, or all validation errors.
fn errors_of(text: &str, mode: Mode) -> Vec<String> {
    match MachineConfig::from_yaml(text) {
        Err(e) => vec![e.to_string()],
        Ok(cfg) => validate(&cfg, mode)
            .errors
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

const D1: &str = "document 1 (v1alpha1)";

fn interfaces(body: &str) -> String {
    edit(
        CP,
        &[(
            "    network: {}\n",
            &format!("    network:\n        interfaces:\n{body}"),
        )],
    )
}

fn decode_cases() -> Vec<Case> {
    use Mode::Metal;
    vec![
        case("typo gets a suggestion", edit(CP, &[("    network: {}", "    netwrok: {}")]), Metal,
            &[&format!("{D1}, line 57: .machine.netwrok: unknown field \"netwrok\" (did you mean \"network\"?)")]),
        case("unknown key far from any field lists the valid ones",
            edit(CP, &[("            port: 7445 # KubePrism port.", "            port: 7445\n            zzz: 1")]), Metal,
            &[&format!("{D1}, line 155: .machine.features.kubePrism.zzz: unknown field \"zzz\"; remove it or use one of: enabled, port")]),
        case("unsupported Talos field", edit(CP, &[("    network: {}", "    network:\n        kubespan:\n            enabled: true")]), Metal,
            &[&format!("{D1}, line 58: .machine.network.kubespan: \"kubespan\" is a Talos field that Basalt does not support yet; remove it")]),
        case("unsupported Talos field inside a list item",
            interfaces("            - interface: eth0\n              bond:\n                  mode: 802.3ad\n"), Metal,
            &[&format!("{D1}, line 60: .machine.network.interfaces[0].bond: \"bond\" is a Talos field that Basalt does not support yet; remove it")]),
        case("wrong type in a list item",
            interfaces("            - interface: eth0\n              mtu: 1500\n            - interface: eth1\n              mtu: abc\n"), Metal,
            &[&format!("{D1}, line 62: .machine.network.interfaces[1].mtu: invalid type: string \"abc\", expected u32")]),
        case("negative port", edit(CP, &[("port: 7445 #", "port: -1 #")]), Metal,
            &[&format!("{D1}, line 154: .machine.features.kubePrism.port: invalid value: integer `-1`, expected u32")]),
        case("not a boolean", edit(CP, &[("debug: false", "debug: maybe")]), Metal,
            &[&format!("{D1}, line 2: .debug: invalid type: string \"maybe\", expected a boolean")]),
        case("list where a string is expected", edit(CP, &[("    clusterName: demo", "    clusterName: [demo]")]), Metal,
            &[&format!("{D1}, line 282: .cluster.clusterName: invalid type: sequence, expected a string")]),
        case("missing required section", "version: v1alpha1\nmachine:\n    type: worker\n".to_string(), Metal,
            &[&format!("{D1}, line 1: .: missing field \"cluster\"")]),
        case("duplicate key", edit(CP, &[("    clusterName: demo", "    clusterName: demo\n    clusterName: other")]), Metal,
            &[&format!("{D1}, line 283: .cluster.clusterName: duplicate key (first defined at line 282); keep only one")]),
        case("YAML syntax error", edit(CP, &[("    clusterName: demo", "    clusterName: [demo")]), Metal,
            &["line 284, column 5: invalid YAML: invalid indentation in flow construct; fix the YAML syntax (indentation, quotes, brackets)"]),
        case("unknown document kind", format!("{CP}---\napiVersion: v1alpha1\nkind: FooConfig\n"), Metal,
            &["document 2 (FooConfig), line 427: .kind: unknown document kind \"FooConfig\"; supported kinds: TrustedRootsConfig, KmsgLogConfig, NetworkDefaultActionConfig, NetworkRuleConfig"]),
        case("known but unsupported Talos kind", format!("{CP}---\napiVersion: v1alpha1\nkind: SideroLinkConfig\napiUrl: https://siderolink.example:8099\n"), Metal,
            &["document 2 (SideroLinkConfig), line 427: .kind: kind \"SideroLinkConfig\" is a Talos document Basalt does not support yet; remove this document"]),
        case("wrong apiVersion", format!("{CP}---\napiVersion: v1beta1\nkind: KmsgLogConfig\nname: a\nurl: tcp://1.2.3.4:5\n"), Metal,
            &["document 2 (KmsgLogConfig), line 426: .apiVersion: \"v1beta1\" is not supported for kind \"KmsgLogConfig\"; use \"v1alpha1\""]),
        case("typo in a companion document", format!("{CP}---\napiVersion: v1alpha1\nkind: NetworkDefaultActionConfig\ningres: block\n"), Metal,
            &["document 2 (NetworkDefaultActionConfig), line 428: .ingres: unknown field \"ingres\" (did you mean \"ingress\"?)"]),
        case("two v1alpha1 documents", format!("{CP}---\n{WORKER}"), Metal,
            &["document 2 (v1alpha1), line 426: a second v1alpha1 document (the first is document 1); merge them into one"]),
        case("document that is not a mapping", "- a\n- b\n".to_string(), Metal,
            &["document 1 (unknown), line 1: found a list; a config document must be a mapping such as `version: v1alpha1` or `apiVersion: v1alpha1` + `kind: ...`"]),
        case("empty stream", "---\n# nothing here\n---\n".to_string(), Metal,
            &["machine config contains no YAML document; it needs at least a document with `version: v1alpha1`"]),
        case("oversized input", format!("{CP}#{}\n", "x".repeat(4 * 1024 * 1024)), Metal,
            &[&format!("machine config is {} bytes, more than the 4194304-byte limit; remove unused content (large manifests belong in cluster.extraManifests URLs)", CP.len() + 4 * 1024 * 1024 + 2)]),
    ]
}

fn validation_cases() -> Vec<Case> {
    use Mode::{Container, Metal};
    vec![
        case("version", edit(CP, &[("version: v1alpha1", "version: v1alpha2")]), Metal,
            &[&format!("{D1}, line 1: .version: \"v1alpha2\" is not a supported config version; use \"v1alpha1\"")]),
        case("machine type", edit(CP, &[("    type: controlplane", "    type: master")]), Metal,
            &[&format!("{D1}, line 6: .machine.type: \"master\" is not a machine type; use \"controlplane\" or \"worker\" (legacy \"init\" and \"join\" are also accepted)")]),
        case("endpoint without scheme", edit(CP, &[("endpoint: https://10.5.0.2:6443", "endpoint: 10.5.0.2:6443")]), Metal,
            &[&format!("{D1}, line 281: .cluster.controlPlane.endpoint: \"10.5.0.2:6443\" is not a URL; use https://<host>:<port>")]),
        case("cluster name", edit(CP, &[("    clusterName: demo", "    clusterName: Demo_Cluster")]), Metal,
            &[&format!("{D1}, line 282: .cluster.clusterName: \"Demo_Cluster\" is not a valid cluster name; use lowercase letters, digits and '-' (at most 63 characters, starting and ending with a letter or digit)")]),
        case("bootstrap token", edit(CP, &[("    token: a7lsnt.lw9evh4bdwe6uwjp", "    token: a7lsnt-lw9evh4bdwe6uwjp")]), Metal,
            &[&format!("{D1}, line 299: .cluster.token: is not a Kubernetes bootstrap token; it must look like \"abcdef.0123456789abcdef\" ([a-z0-9]{{6}}.[a-z0-9]{{16}})")]),
        case("machine token with spaces", edit(CP, &[("    token: erd2ws.200ve4atc0yxvh6q", "    token: \"erd2ws 200ve4atc0yxvh6q\"")]), Metal,
            &[&format!("{D1}, line 7: .machine.token: must be 1-256 printable characters without spaces, like \"abcdef.0123456789abcdef\"")]),
        case("encryption secret length", edit(CP, &[("secretboxEncryptionSecret: /RJB1bq3LpoUUyZPsIOwJ3BJPkFoRQ07wzMCmDJ7xVE=", "secretboxEncryptionSecret: c2hvcnQ=")]), Metal,
            &[&format!("{D1}, line 300: .cluster.secretboxEncryptionSecret: must be the base64 of 32 random bytes; generate one with `head -c 32 /dev/urandom | base64`")]),
        case("cluster id", edit(CP, &[("id: 4RNTFQaoeEGCHYd7Mu9nD0R3sptgaBNn5CrjTMXCaQ0=", "id: not-base64!")]), Metal,
            &[&format!("{D1}, line 277: .cluster.id: must be the base64 of 32 random bytes; generate one with `head -c 32 /dev/urandom | base64`")]),
        case("pod and service subnets overlap", edit(CP, &[("- 10.96.0.0/12", "- 10.244.128.0/20")]), Metal,
            &[&format!("{D1}, line 291: .cluster.network.serviceSubnets[0]: 10.244.128.0/20 overlaps .cluster.network.podSubnets[0] (10.244.0.0/16); pod and service subnets must not overlap")]),
        case("two IPv4 pod subnets and a bad CIDR", edit(CP, &[("            - 10.244.0.0/16\n", "            - 10.244.0.0/16\n            - 10.250.0.0/16\n            - 10.1.0.0/33\n")]), Metal,
            &[&format!("{D1}, line 289: .cluster.network.podSubnets[1]: a second IPv4 subnet; use at most one IPv4 and one IPv6 subnet"),
              &format!("{D1}, line 290: .cluster.network.podSubnets[2]: \"10.1.0.0/33\" is not a CIDR; use e.g. 10.244.0.0/16")]),
        case("interface checks", interfaces(concat!(
            "            - interface: eth0\n",
            "              addresses: [10.5.0.2/24, 10.5.0.300/24]\n",
            "              routes:\n",
            "                  - network: 0.0.0.0/0\n",
            "                    gateway: 10.5.0.one\n",
            "              mtu: 100\n",
            "              vip:\n",
            "                  ip: 10.5.0.x\n",
            "            - interface: eth0\n",
            "              dhcp: true\n")), Metal,
            &[&format!("{D1}, line 60: .machine.network.interfaces[0].addresses[1]: \"10.5.0.300/24\" is not an address in CIDR form; use e.g. 192.168.2.10/24"),
              &format!("{D1}, line 63: .machine.network.interfaces[0].routes[0].gateway: \"10.5.0.one\" is not an IP address"),
              &format!("{D1}, line 64: .machine.network.interfaces[0].mtu: 100 is out of range; use 576-65535"),
              &format!("{D1}, line 66: .machine.network.interfaces[0].vip.ip: \"10.5.0.x\" is not an IP address"),
              &format!("{D1}, line 67: .machine.network.interfaces[1].interface: interface \"eth0\" is already configured at .machine.network.interfaces[0]; merge the two entries")]),
        case("nameservers", edit(CP, &[("    network: {}", "    network:\n        nameservers: [1.1.1.1, dns.google]")]), Metal,
            &[&format!("{D1}, line 58: .machine.network.nameservers[1]: \"dns.google\" is not an IP address")]),
        case("certSANs", edit(CP, &[("    certSANs: []", "    certSANs: [node1.example.com, \"bad name\"]")]), Metal,
            &[&format!("{D1}, line 13: .machine.certSANs[1]: \"bad name\" is neither an IP address nor a DNS name")]),
        case("dnsDomain", edit(CP, &[("dnsDomain: cluster.local", "dnsDomain: cluster..local")]), Metal,
            &[&format!("{D1}, line 285: .cluster.network.dnsDomain: \"cluster..local\" is not a valid DNS domain; use e.g. cluster.local")]),
        case("kubelet clusterDNS and nodeIP", edit(CP, &[("        disableManifestsDirectory: true", "        disableManifestsDirectory: true\n        clusterDNS: [10.96.0.10, ten]\n        nodeIP:\n            validSubnets: ['!10.0.0.3/32', 10.0.0.0/40]")]), Metal,
            &[&format!("{D1}, line 24: .machine.kubelet.clusterDNS[1]: \"ten\" is not an IP address"),
              &format!("{D1}, line 26: .machine.kubelet.nodeIP.validSubnets[1]: \"10.0.0.0/40\" is not a CIDR; use e.g. 10.0.0.0/8 (prefix with ! to exclude)")]),
        case("etcd advertisedSubnets", edit(CP, &[("    etcd:\n", "    etcd:\n        advertisedSubnets: [10.0.0.0/8, fd00::/129]\n")]), Metal,
            &[&format!("{D1}, line 370: .cluster.etcd.advertisedSubnets[1]: \"fd00::/129\" is not a CIDR; use e.g. 10.0.0.0/8 (prefix with ! to exclude)")]),
        case("sysctl key", edit(CP, &[("    registries: {}\n", "    sysctls:\n        net.ipv4.ip_forward: 1\n        \"net..bad key\": x\n    registries: {}\n")]), Metal,
            &[&format!("{D1}, line 126: .machine.sysctls[\"net..bad key\"]: \"net..bad key\" is not a valid sysctl name; use dotted or slashed names such as net.ipv4.ip_forward")]),
        case("files", edit(CP, &[("    registries: {}\n", concat!(
            "    files:\n",
            "        - {content: a, permissions: 0o644, path: /var/etc/ok.conf, op: create}\n",
            "        - {content: b, permissions: 0644, path: etc/relative, op: create}\n",
            "        - {content: c, permissions: 420, path: /etc/motd, op: replace}\n",
            "    registries: {}\n"))]), Metal,
            &[&format!("{D1}, line 126: .machine.files[1].path: \"etc/relative\" is not a normalized absolute path; use e.g. /var/etc/example.conf"),
              &format!("{D1}, line 127: .machine.files[2].op: \"replace\" is not a file operation; use one of: create, append, overwrite"),
              &format!("{D1}, line 127: .machine.files[2].path: \"/etc/motd\" is outside /var; on metal only files under /var (and /etc/cri/conf.d/20-customization.part) can be written")]),
        case("inline manifests", edit(CP, &[("    # Etcd specific configuration options.\n", concat!(
            "    inlineManifests:\n",
            "        - name: ns\n",
            "          contents: 'kind: Namespace'\n",
            "        - name: ns\n",
            "          contents: 'kind: Namespace'\n",
            "        - name: ''\n",
            "          contents: x\n",
            "    # Etcd specific configuration options.\n"))]), Metal,
            &[&format!("{D1}, line 371: .cluster.inlineManifests[1].name: \"ns\" is used by another inline manifest; names must be unique"),
              &format!("{D1}, line 373: .cluster.inlineManifests[2].name: is required; give each inline manifest a unique name")]),
        case("extraManifests", edit(CP, &[("    # Etcd specific configuration options.\n", "    extraManifests: [https://example.com/a.yaml, example.com/b.yaml]\n    # Etcd specific configuration options.\n")]), Metal,
            &[&format!("{D1}, line 368: .cluster.extraManifests[1]: \"example.com/b.yaml\" is not an http(s) URL; use e.g. https://example.com/manifest.yaml")]),
        case("kubePrism port range", edit(CP, &[("port: 7445 #", "port: 70000 #")]), Metal,
            &[&format!("{D1}, line 154: .machine.features.kubePrism.port: 70000 is not a TCP port; use 1-65535 (Talos default 7445)")]),
        case("metal needs an install disk", edit(CP, &[("        disk: /dev/sda # The disk used for installations.\n", "")]), Metal,
            &[&format!("{D1}, line 108: .machine.install: metal mode needs an install target; set machine.install.disk (e.g. /dev/sda) or machine.install.diskSelector")]),
        case("container mode needs host DNS forwarding", edit(CP, &[("            forwardKubeDNSToHost: true", "            forwardKubeDNSToHost: false")]), Container,
            &[&format!("{D1}, line 158: .machine.features.hostDNS.forwardKubeDNSToHost: must be true in container mode (CoreDNS forwards to the host resolver)")]),
    ]
}

fn pki_cases() -> Vec<Case> {
    use Mode::Metal;
    let os_key = CP
        .lines()
        .nth(10)
        .unwrap()
        .trim()
        .strip_prefix("key: ")
        .unwrap()
        .to_string();
    let sa_line = CP.lines().nth(310).unwrap().to_string();
    vec![
        case("control plane without CA keys", edit(CP, &[(CP.lines().nth(10).unwrap(), "        key: \"\""), (&sa_line, "        key: \"\"")]), Metal,
            &[&format!("{D1}, line 11: .machine.ca.key: is required on a control-plane node; take it from the cluster's secrets bundle (basaltctl gen secrets)"),
              &format!("{D1}, line 311: .cluster.serviceAccount.key: is required on a control-plane node; take it from the cluster's secrets bundle (basaltctl gen secrets)")]),
        case("worker carrying a CA key", edit(WORKER, &[("        key: \"\"\n    # Extra certificate", &format!("        key: {os_key}\n    # Extra certificate"))]), Metal,
            &[&format!("{D1}, line 11: .machine.ca.key: is a CA private key, which a worker must not carry; remove it (workers get certificates from trustd)")]),
        case("crt is not base64", edit(CP, &[(CP.lines().nth(9).unwrap(), "        crt: '%%%'")]), Metal,
            &[&format!("{D1}, line 10: .machine.ca.crt: is not valid base64 (Invalid symbol 37, offset 0.); paste the base64 of the PEM file, e.g. `base64 -w0 ca.crt`")]),
        case("crt is base64 of something else", edit(CP, &[(CP.lines().nth(9).unwrap(), "        crt: aGVsbG8gd29ybGQ=")]), Metal,
            &[&format!("{D1}, line 10: .machine.ca.crt: decodes to something that is not PEM (malformedframing); it must be the base64 of a `-----BEGIN ...-----` block")]),
        case("key holds a certificate", edit(CP, &[(&sa_line, &CP.lines().nth(9).unwrap().replace("crt:", "key:"))]), Metal,
            &[&format!("{D1}, line 311: .cluster.serviceAccount.key: is a PEM \"CERTIFICATE\" block, not a private key; expected one of: PRIVATE KEY, EC PRIVATE KEY, ED25519 PRIVATE KEY, RSA PRIVATE KEY")]),
        case("certificate that is not X.509", edit(CP, &[(CP.lines().nth(9).unwrap(), &format!("        crt: {}", basalt_config::v1alpha1::Base64Pem::from_pem("-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n").0))]), Metal,
            &[&format!("{D1}, line 10: .machine.ca.crt: is not a valid X.509 certificate (Parsing Error: NomError(Eof)); use the base64 of a PEM certificate")]),
    ]
}

fn check(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let got = errors_of(&c.text, c.mode);
        if got != c.expected {
            failures.push(format!(
                "case {:?}:\n  expected: {:#?}\n  got:      {:#?}",
                c.name, c.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn decode_errors() {
    check(decode_cases());
}

#[test]
fn validation_errors() {
    check(validation_cases());
}

#[test]
fn pki_errors() {
    check(pki_cases());
}

#[test]
fn there_are_at_least_35_cases() {
    assert!(decode_cases().len() + validation_cases().len() + pki_cases().len() >= 35);
}

#[test]
fn all_errors_are_reported_at_once() {
    let text = edit(
        CP,
        &[
            ("    type: controlplane", "    type: master"),
            ("endpoint: https://10.5.0.2:6443", "endpoint: 10.5.0.2:6443"),
            ("    clusterName: demo", "    clusterName: Demo_Cluster"),
            ("- 10.96.0.0/12", "- 10.244.128.0/20"),
        ],
    );
    assert_eq!(errors_of(&text, Mode::Metal), [
        format!("{D1}, line 6: .machine.type: \"master\" is not a machine type; use \"controlplane\" or \"worker\" (legacy \"init\" and \"join\" are also accepted)"),
        format!("{D1}, line 281: .cluster.controlPlane.endpoint: \"10.5.0.2:6443\" is not a URL; use https://<host>:<port>"),
        format!("{D1}, line 282: .cluster.clusterName: \"Demo_Cluster\" is not a valid cluster name; use lowercase letters, digits and '-' (at most 63 characters, starting and ending with a letter or digit)"),
        format!("{D1}, line 291: .cluster.network.serviceSubnets[0]: 10.244.128.0/20 overlaps .cluster.network.podSubnets[0] (10.244.0.0/16); pod and service subnets must not overlap"),
    ]);
}

#[test]
fn container_mode_applies_static_addresses_and_warns_only_about_install() {
    // machined configures interfaces in container mode too (the launcher only provides links).
    let text =
        interfaces("            - interface: eth0\n              addresses: [10.5.0.2/24]\n");
    let report = validate(&MachineConfig::from_yaml(&text).unwrap(), Mode::Container);
    assert!(report.errors.is_empty(), "{report}");
    let warnings: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [format!(
            "{D1}, line 111: .machine.install: is ignored in container mode (nothing is installed)"
        ),]
    );
}

#[test]
fn mode_names() {
    assert_eq!("metal".parse::<Mode>().unwrap(), Mode::Metal);
    assert_eq!("container".parse::<Mode>().unwrap(), Mode::Container);
    assert_eq!(
        "docker".parse::<Mode>().unwrap_err().to_string(),
        "unknown mode \"docker\"; valid modes are: metal, container"
    );
}
