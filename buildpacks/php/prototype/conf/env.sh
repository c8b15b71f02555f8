export PATH="/layers/toolforge_php/php/bin:/layers/toolforge_php/php/usr/bin:/layers/toolforge_php/php/usr/sbin:$PATH"
export LD_LIBRARY_PATH="/layers/toolforge_php/php/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PHPRC="/layers/toolforge_php/php/etc/php/8.4/php.ini"
export PHP_INI_SCAN_DIR="/layers/toolforge_php/php/etc/php/8.4/conf.d"
