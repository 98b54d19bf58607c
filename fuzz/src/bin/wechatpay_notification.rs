//! AFL++ entry point of the `wechatpay_notification` fuzz target; the harness is [`mendian_fuzz::wechatpay_notification`].

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = mendian_fuzz::wechatpay_notification(data);
    });
}
