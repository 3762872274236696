fn main() {
    eprintln!("terraform-provider-eksidentity: not wired yet");
    std::process::exit(1);
}
