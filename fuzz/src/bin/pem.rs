//! AFL++ entry point of the `pem` fuzz target; the harness is [`mendian_fuzz::pem`].

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = mendian_fuzz::pem(data);
    });
}
