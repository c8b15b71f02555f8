//! The exec.d program of this buildpack's launch layers of Debian packages: stops the start of an
//! image rebased onto a run image that no longer has what the layer's packages need
//! ([`libtoolforge::run_image_dependencies`]).

fn main() {
    std::process::exit(libtoolforge::run_image_dependencies::exec_d_main());
}
