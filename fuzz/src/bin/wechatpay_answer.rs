//! AFL++ entry point of the `wechatpay_answer` fuzz target; the harness is [`mendian_fuzz::wechatpay_answer`].

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = mendian_fuzz::wechatpay_answer(data);
    });
}
