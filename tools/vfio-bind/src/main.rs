//! The `vfio-bind` command; everything is in the library.

fn main() {
    std::process::exit(vfio_bind::cli::main());
}
