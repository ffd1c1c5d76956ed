# Sourced by the benchmark scripts: nginx as a reverse proxy, configured as
# scripts/bench/http-proxy.sh configures it (2 workers, keep-alive to the origins).
#   write_nginx_proxy_conf DIR LISTEN "ORIGIN ..." [SERVER_LINES]
# writes DIR/nginx.conf. LISTEN is what follows `listen` (e.g. "127.0.0.1:18080" or
# "127.0.0.1:18443 ssl"); SERVER_LINES go into the server block (certificates, ciphers).
write_nginx_proxy_conf() {
  local d=$1 listen=$2 origins=$3 extra=${4:-} servers="" origin
  for origin in $origins; do servers+="    server $origin;"$'\n'; done
  mkdir -p "$d/tmp"
  cat > "$d/nginx.conf" <<CFG
worker_processes 2;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  upstream origins {
${servers}    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen $listen backlog=4096;
$extra
    location / {
      proxy_pass http://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CFG
}
