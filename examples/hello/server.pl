#!/usr/bin/perl
# A tiny web service that needs nothing but the Toolforge run image (perl-base is part of
# every Debian system), so the example shows the builder without any language buildpack.
use strict;
use warnings;
use IO::Socket::INET;

my $port = $ENV{PORT} || 8000;
my $server = IO::Socket::INET->new(
    LocalAddr => '0.0.0.0', LocalPort => $port, Listen => 16, ReuseAddr => 1,
) or die "cannot listen on port $port: $!\n";
$| = 1;
print "listening on port $port\n";

while (my $client = $server->accept) {
    my $request = <$client> // '';
    while (my $header = <$client>) { last if $header =~ /^\r?\n$/; }
    my $body = "<!doctype html>\n<title>Hello from Toolforge</title>\n"
        . "<h1>Hello from Toolforge</h1>\n"
        . "<p>This tool was built by toolforge/builder and runs as uid $>, as Toolforge runs tools.</p>\n";
    print $client "HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n" . $body;
    close $client;
}
