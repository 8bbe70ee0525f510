//! Prints the API access policy as Markdown:
//! `cargo run -p basalt-apid --example render-policy > docs/api-policy.md`.

fn main() {
    print!("{}", basalt_apid::policy::render_markdown());
}
