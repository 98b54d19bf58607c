//! AFL++ entry point of the `wxa_push_xml` fuzz target; the harness is [`mendian_fuzz::wxa_push_xml`].

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = mendian_fuzz::wxa_push_xml(data);
    });
}
