#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mboxscope_fuzz::emulator_delivery(data));
