#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mboxscope_fuzz::delivery_response(data));
