//! AFL++ entry point of the `wxa_answer` fuzz target; the harness is [`mendian_fuzz::wxa_answer`].

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = mendian_fuzz::wxa_answer(data);
    });
}
