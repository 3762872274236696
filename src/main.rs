//! terraform-provider-eksidentity: builds the provider and serves it as a Terraform plugin. Nothing else lives
//! here; a fatal error becomes a sentence on stderr and a non-zero exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match eksidentity::plugin::serve(eksidentity::provider::new()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-eksidentity: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
