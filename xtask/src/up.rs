//! `cargo xtask up`: what "bring up a local Basalt" means TODAY.
//!
//! There is no machined or cluster yet, so this prepares everything that exists: system
//! packages, a release `basaltctl`, a generated demo config in `_out/demo`, and a validation of
//! it. It says plainly that cluster creation arrives with a later issue.

use std::process::Command;

use anyhow::Result;

use crate::{cmd, packages};

const CLUSTER: &str = "demo";
const ENDPOINT: &str = "https://10.5.0.2:6443";
const OUT: &str = "_out/demo";

/// Runs the set-up steps and prints where the results are.
pub fn run() -> Result<()> {
    println!("xtask up: 1/4 system packages");
    packages::ensure(packages::FOR_TESTS)?;

    println!("xtask up: 2/4 building basaltctl (release)");
    cmd::run(cmd::cargo().args(["build", "--release", "-p", "basaltctl"]))?;
    let basaltctl = cmd::target_dir().join("release").join("basaltctl");

    println!("xtask up: 3/4 generating the {CLUSTER} cluster's configs into {OUT}");
    cmd::run(
        Command::new(&basaltctl)
            .args(["gen", "config", CLUSTER, ENDPOINT, "-o", OUT, "--force"])
            .current_dir(cmd::root()),
    )?;

    let controlplane = format!("{OUT}/controlplane.yaml");
    println!("xtask up: 4/4 validating {controlplane} (mode metal)");
    cmd::run(
        Command::new(&basaltctl)
            .args(["validate", "-c", &controlplane, "-m", "metal"])
            .current_dir(cmd::root()),
    )?;

    let ctl = basaltctl.display();
    let out = cmd::root().join(OUT);
    println!(
        "\nDone. Files are in {out}:\n\
         \x20 controlplane.yaml  worker.yaml  basaltconfig (the client config)\n\n\
         Next commands to try:\n\
         \x20 {ctl} validate -c {OUT}/worker.yaml -m metal\n\
         \x20 {ctl} machineconfig patch {OUT}/worker.yaml --patch '{{\"machine\": {{\"network\": {{\"hostname\": \"w1\"}}}}}}'\n\
         \x20 {ctl} --basaltconfig {OUT}/basaltconfig config info\n\
         \x20 {ctl} gen secrets -o {OUT}/secrets.yaml --force\n\
         \x20 {ctl} validate -c {OUT}/controlplane.yaml -m container   # warns: install is ignored there\n\n\
         Not yet: `cargo xtask up` does not create a cluster; `basaltctl cluster create` (nodes\n\
         started from the image, etcd formed on its own) arrives with a later issue.",
        out = out.display()
    );
    Ok(())
}
