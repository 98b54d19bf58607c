//! Checks the given spec files (or the whole `spec/` directory) and prints a summary, or the
//! first problem as `file:line: reason`. Used while editing a spec file:
//! `cargo run -q -p mendian-spec --example check -- spec/wxa.toml`.

use std::path::PathBuf;

fn main() {
    let args: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let result = if args.is_empty() {
        mendian_spec::load_dir(std::path::Path::new("spec"))
    } else {
        let sources: Vec<(PathBuf, String)> = args
            .iter()
            .map(|p| (p.clone(), std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))))
            .collect();
        mendian_spec::load_sources(&sources)
    };
    match result {
        Ok(spec) => {
            for f in &spec.files {
                let s = &f.spec;
                let fields: usize = s.endpoints.iter().map(|e| e.fields.len()).sum::<usize>()
                    + s.types.iter().map(|t| t.fields.len()).sum::<usize>()
                    + s.events.iter().map(|e| e.fields.len()).sum::<usize>();
                let errors: usize = s.errors.len() + s.endpoints.iter().map(|e| e.errors.len()).sum::<usize>();
                println!(
                    "{}: ok — {} endpoints, {} events, {} types, {} enums, {} fields, {} error codes",
                    f.path.display(),
                    s.endpoints.len(),
                    s.events.len(),
                    s.types.len(),
                    s.enums.len(),
                    fields,
                    errors
                );
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
