//! AFL++ entry point of the `der` fuzz target; the harness is [`mendian_fuzz::der`].

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = mendian_fuzz::der(data);
    });
}
