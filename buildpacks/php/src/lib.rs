//! The parts of the PHP buildpack that run in the app image: the web launcher behind
//! `heroku-php-apache2` and `heroku-php-nginx` (`src/bin/toolforge-php-web.rs`).

pub mod web;
