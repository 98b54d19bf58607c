//! AFL++ entry point of the `wxa_push_decrypt` fuzz target; the harness is [`mendian_fuzz::wxa_push_decrypt`].

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = mendian_fuzz::wxa_push_decrypt(data);
    });
}
