//! `toolforge-php-web`, installed in the PHP layer's `bin/` with the symlinks `heroku-php-apache2`
//! and `heroku-php-nginx`: see `toolforge_php::web`.

fn main() -> std::process::ExitCode {
    toolforge_php::web::main()
}
