//! `apt-get download` with sha256 pinning against Debian's real archive (a 46 KB package).
#![allow(clippy::unwrap_used)]

mod common;

use basalt_image::fetch;
use basalt_image::inputs::{Inputs, Package};
use basalt_image::ImageError;

fn libseccomp() -> Package {
    let inputs = Inputs::load(&common::workspace().join("image/inputs.yaml")).unwrap();
    inputs
        .packages
        .into_iter()
        .find(|p| p.name == "libseccomp2")
        .unwrap()
}

#[test]
fn pinned_download_is_cached_and_a_wrong_hash_names_both_hashes() {
    let cache = tempfile::tempdir().unwrap();
    let good = libseccomp();
    let deb = fetch::fetch(&good, cache.path()).unwrap();
    assert_eq!(basalt_image::sha256_file(&deb).unwrap().0, good.sha256);

    // A corrupted cache entry is replaced by a fresh download.
    std::fs::write(&deb, b"corrupt").unwrap();
    let again = fetch::fetch(&good, cache.path()).unwrap();
    assert_eq!(basalt_image::sha256_file(&again).unwrap().0, good.sha256);

    // Unpacking is cached by hash and yields the file the inputs promise.
    let tree = fetch::unpacked(&good, &again, cache.path()).unwrap();
    assert!(tree.join(&good.files[0].from).is_file());
    assert_eq!(fetch::unpacked(&good, &again, cache.path()).unwrap(), tree);

    // A pin that does not match the archive is an error naming package and both hashes.
    let mut bad = good.clone();
    bad.sha256 = "0".repeat(64);
    let err = fetch::fetch(&bad, cache.path()).unwrap_err();
    assert!(matches!(err, ImageError::HashMismatch { .. }), "{err}");
    let text = err.to_string();
    println!("{text}");
    assert!(
        text.contains("libseccomp2") && text.contains(&bad.sha256) && text.contains(&good.sha256),
        "{text}"
    );
}
