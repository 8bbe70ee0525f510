//! Fuzz target `config`: arbitrary bytes through machine-config decoding and validation.
//! Any panic, overflow or hang is a bug: bad input must come back as an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    basalt_config::fuzz::decode_and_validate(data);
});
