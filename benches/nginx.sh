# Shared by the bench scripts (sourced): nginx on a free loopback port, started from a config
# under $WORK (its pid in $WORK/nginx.pid, which the scripts' cleanup kills).

# Installs nginx with apt when it is missing.
need_nginx() {
  command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts nginx (2 workers, no access log, kept connections) with "$1" as the rest of its http
# block (a server listening on 127.0.0.1:$NGINX_PORT, which the caller takes from free_port).
start_nginx() {
  mkdir -p "$WORK/nginx"
  cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
$1
}
CONF
  nginx -c "$WORK/nginx.conf"
  sleep 0.3
}
