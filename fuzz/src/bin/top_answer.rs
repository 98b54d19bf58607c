//! AFL++ entry point of the `top_answer` fuzz target; the harness is [`mendian_fuzz::top_answer`].

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = mendian_fuzz::top_answer(data);
    });
}
