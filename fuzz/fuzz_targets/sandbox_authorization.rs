//! The `Authorization` header parser of the sandbox: any header it accepts
//! must read back the same from its canonical form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_sandbox::__fuzz::parse_authorization;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(fields) = parse_authorization(header) {
        let [mchid, nonce, signature, timestamp, serial] = &fields;
        let canonical = format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{serial}\""
        );
        assert_eq!(parse_authorization(&canonical).as_ref(), Ok(&fields));
    }
});
