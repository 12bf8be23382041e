#!/usr/bin/env bash
# dev.sh - build mailroom and run it on this machine, wired into a private
# PostgreSQL cluster and a private Postfix instance. All state lives in the
# checkout's .run/ folder; nothing is installed outside it except Debian
# packages, the system account "mailroom" and one line in
# /etc/postfix/main.cf (alternate_config_directories).
#
#   ./dev.sh up       install, build, start everything, send the demo mail
#   ./dev.sh down     stop everything (state in .run/ is kept)
#   ./dev.sh env      print export lines: eval "$(./dev.sh env)"
#   ./dev.sh status   show what runs
#   ./dev.sh test     sanitizer build, unit tests, fresh stack, integration tests,
#                     a short fuzzing run of every parser
#   ./dev.sh start|stop pg|milter|worker|postfix   one part only (for tests)
#
# Environment: MAILROOM_SANITIZE=1 builds with ASan/UBSan (test sets it);
# MAILROOM_DEMO=0 makes `up` skip the demo mail.
set -euo pipefail

# Debian packages needed to build, run and test mailroom.
PACKAGES="build-essential autoconf automake libtool pkg-config libmilter-dev
libpq-dev libconfig-dev libpcre2-dev libcurl4-openssl-dev libsodium-dev liboath-dev libqrencode-dev libarchive-dev
libgmime-3.0-dev libjansson-dev libxml2-dev postgresql postfix miltertest swaks python3
libclang-rt-14-dev clang cppcheck lighttpd argon2 zbar-tools wrk chromium nodejs"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
RUN=$ROOT/.run
LOGDIR=$RUN/log
ASAN_DIR=$LOGDIR/asan
CONF=$RUN/mailroom.conf

PG_BIN=/usr/lib/postgresql/15/bin
# Ports can be moved (MAILROOM_DEV_PORTS="PG INBOUND ORIGINATING [WEB]") so
# that two checkouts can run their stacks side by side.
read -r PG_PORT SMTP_PORT SUBMIT_PORT WEB_PORT <<<"${MAILROOM_DEV_PORTS:-5433 2525 2587 8080}"
WEB_PORT=${WEB_PORT:-8080}
PGDATA_DIR=$RUN/pg
PG_SOCKDIR=$RUN/pgsock

MILTER_BIN=$ROOT/milter/mailroom-milter
CTL_BIN=$ROOT/ctl/mailroomctl
MILTER_DIR=$RUN/milter
MILTER_SOCK=$MILTER_DIR/milter.sock
MILTER_PID=$RUN/milter.pid
WORKER_BIN=$ROOT/worker/mailroom-worker
WORKER_PID=$RUN/worker.pid
SPOOL_DIR=$RUN/spool

PF_CONF=$RUN/postfix/etc
PF_QUEUE=$RUN/postfix/queue
PF_DATA=$RUN/postfix/data
MAILDIR=$RUN/maildir
SMTP_INBOUND=127.0.0.1:$SMTP_PORT
SMTP_SUBMIT=127.0.0.1:$SUBMIT_PORT

# lighttpd serving mailroom.cgi (as www-data, which maps to mailroom_web)
CGI_BIN=$ROOT/webui-cgi/mailroom.cgi
STATIC_DIR=$ROOT/webui-cgi/static
WEB_DIR=$RUN/lighttpd
WEB_CONF=$WEB_DIR/lighttpd.conf
WEB_PID=$RUN/lighttpd.pid
WEB_URL=http://127.0.0.1:$WEB_PORT/mailroom.cgi

# Remembers the ./configure flags of the last build, to notice a change.
CONFIGURE_STAMP=$ROOT/.configure.stamp

umask 022

# --- small helpers ------------------------------------------------------------

say()  { printf '==> %s\n' "$*"; }
warn() { printf 'dev.sh: warning: %s\n' "$*" >&2; }
die()  { printf 'dev.sh: error: %s\n' "$*" >&2; exit 1; }

# Most steps need root (packages, accounts, runuser); re-run through sudo.
need_root() {
  [[ $(id -u) -eq 0 ]] && return 0
  command -v sudo >/dev/null || die "run this as root (sudo is not installed)"
  exec sudo --preserve-env=MAILROOM_SANITIZE,MAILROOM_DEMO -- "$ROOT/dev.sh" "$@"
}

# Build as the owner of the checkout, so that a developer's tree does not
# fill up with root-owned files.
as_owner() {
  local owner
  owner=$(stat -c %U "$ROOT")
  if [[ $owner != root && $(id -u) -eq 0 ]]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

# proc_alive PID - the process exists and is not a zombie: where nothing
# reaps orphans (some container inits), a stopped daemon stays a zombie
# that kill -0 still finds.
proc_alive() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [[ ${st%% *} != Z ]]
}

# PostgreSQL refuses to run as root.
as_postgres() { runuser -u postgres -- "$@"; }

# Fill @NAME@ placeholders of a template; values may contain any character
# except a newline.
render() {
  local template=$1 out=$2 expr=() kv name value
  shift 2
  for kv in "$@"; do
    name=${kv%%=*}
    value=${kv#*=}
    value=$(printf '%s' "$value" | sed 's/[\\|&]/\\&/g')
    expr+=(-e "s|@${name}@|${value}|g")
  done
  sed "${expr[@]}" "$template" >"$out.tmp"
  if grep -q '@[A-Z_]\+@' "$out.tmp"; then
    die "$template: placeholder left unfilled: $(grep -o '@[A-Z_]\+@' "$out.tmp" | head -1)"
  fi
  mv "$out.tmp" "$out"
}

# Is something other than us listening on this loopback port?
port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# --- packages -----------------------------------------------------------------

install_packages() {
  local missing=() pkg
  for pkg in $PACKAGES; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) != installed ]]; then
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]})) || return 0
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt-get instead of failing at once.
  apt-get -o DPkg::Lock::Timeout=600 update -q
  apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}"
  # The postfix package may have started the system Postfix on port 25. It
  # is left alone: our instance has its own queue, config and ports.
}

# The browser tests (tests/browser) drive Chromium with playwright-core from
# npm, pinned in tests/browser/package-lock.json and installed into
# tests/browser/node_modules. npm comes with nodejs from some sources
# (which then conflict with Debian's npm package): install it only when
# missing. `npm ci` runs again only when the lock file changed.
install_browser_test_deps() {
  local dir=$ROOT/tests/browser
  if ! command -v npm >/dev/null; then
    say "installing Debian package npm"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q npm || return 1
  fi
  if [[ -f $dir/node_modules/.package-lock.json && ! $dir/node_modules/.package-lock.json -ot $dir/package-lock.json ]]; then
    return 0
  fi
  say "npm ci in tests/browser (playwright-core for the browser tests)"
  (cd "$dir" && as_owner npm ci --no-audit --no-fund --loglevel=error)
}

# --- build --------------------------------------------------------------------

build() {
  local flags="--enable-werror"
  [[ ${MAILROOM_SANITIZE:-0} == 1 ]] && flags+=" --enable-sanitizers"
  cd "$ROOT"

  if [[ ! -x configure || configure -ot configure.ac || configure -ot Makefile.am ]]; then
    say "autoreconf"
    # git keeps no empty directories; aclocal needs m4/ to exist.
    as_owner mkdir -p m4 build-aux
    as_owner autoreconf -fi
  fi

  # Other flags mean other object files: clean before reconfiguring, since
  # make does not rebuild objects when only CFLAGS change.
  local last=""
  [[ -f $CONFIGURE_STAMP ]] && last=$(<"$CONFIGURE_STAMP")
  if [[ ! -f Makefile || ! -f config.status || config.status -ot configure || $last != "$flags" ]]; then
    if [[ -f Makefile && -n $last && $last != "$flags" ]]; then
      say "configure flags changed ($last -> $flags): make clean"
      as_owner make -s clean >/dev/null || true
    fi
    say "./configure $flags"
    # shellcheck disable=SC2086 # flags is a list of words
    as_owner ./configure -q $flags
    # shellcheck disable=SC2016 # expanded by the inner sh
    as_owner sh -c 'printf "%s\n" "$1" >"$2"' sh "$flags" "$CONFIGURE_STAMP"
  fi

  say "make"
  as_owner make -j"$(nproc)"
}

# --- accounts and the state folder --------------------------------------------

# The milter runs as "mailroom" after binding its socket, and Postfix
# writes the Maildirs as this account.
ensure_account() {
  if ! getent passwd mailroom >/dev/null; then
    say "creating system user mailroom"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --comment "mailroom gateway" mailroom
  fi
}

# PostgreSQL, Postfix and the milter run as their own accounts and must
# reach files below the checkout.
check_traversable() {
  local user
  for user in postgres postfix mailroom; do
    if ! runuser -u "$user" -- test -x "$ROOT"; then
      die "user '$user' cannot enter $ROOT. Every directory above the checkout must be world-traversable (o+x): clone mailroom somewhere like /srv or /opt instead of a private home directory."
    fi
  done
}

prepare_run_dir() {
  install -d -m 0755 "$RUN" "$LOGDIR"
  # Sanitizer reports are written by the milter after it dropped to mailroom.
  install -d -o mailroom -g mailroom -m 0755 "$ASAN_DIR"
  install -d -o mailroom -g mailroom -m 0750 "$SPOOL_DIR"
  # Postfix (group postfix) must reach the socket; nobody else.
  install -d -o mailroom -g postfix -m 0750 "$MILTER_DIR"
  install -d -o mailroom -g mailroom -m 0755 "$MAILDIR"
}

# --- PostgreSQL ---------------------------------------------------------------

pg_running() {
  [[ -s $PGDATA_DIR/PG_VERSION ]] && as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

# psql as the superuser through the private socket (root maps to postgres).
psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres "$@"
}

pg_write_config() {
  # Peer authentication only: each system account may use the roles the
  # map gives it, and nothing listens on TCP.
  cat >"$PGDATA_DIR/mailroom-dev.conf" <<EOF
# Written by dev.sh on every start.
listen_addresses = ''
port = $PG_PORT
unix_socket_directories = '$PG_SOCKDIR'
unix_socket_permissions = 0777
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
EOF
  cat >"$PGDATA_DIR/pg_hba.conf" <<'EOF'
# Written by dev.sh on every start.
# TYPE  DATABASE  USER  METHOD
local   all       all   peer map=mailroom
EOF
  {
    echo "# Written by dev.sh on every start."
    echo "# MAPNAME  SYSTEM-USER  PG-ROLE"
    echo "mailroom   postgres     postgres"
    local role
    for role in postgres mailroom_milter mailroom_worker mailroom_web mailroom_auditor; do
      echo "mailroom   root         $role"
    done
    echo "mailroom   mailroom     mailroom_milter"
    echo "mailroom   mailroom     mailroom_worker"
    echo "mailroom   www-data     mailroom_web"
    # The developer who ran sudo may read as auditor and administer.
    if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
      echo "mailroom   $SUDO_USER   mailroom_auditor"
      echo "mailroom   $SUDO_USER   postgres"
    fi
  } >"$PGDATA_DIR/pg_ident.conf"
  chown postgres:postgres "$PGDATA_DIR"/{mailroom-dev.conf,pg_hba.conf,pg_ident.conf}
  chmod 0600 "$PGDATA_DIR"/{mailroom-dev.conf,pg_hba.conf,pg_ident.conf}
}

pg_init() {
  [[ -x $PG_BIN/initdb ]] || die "$PG_BIN/initdb not found: PostgreSQL 15 (package postgresql) is expected"
  install -d -o postgres -g postgres -m 0700 "$PGDATA_DIR"
  install -d -o postgres -g postgres -m 0755 "$PG_SOCKDIR"
  if [[ ! -s $PGDATA_DIR/PG_VERSION ]]; then
    say "initdb $PGDATA_DIR"
    as_postgres "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=reject >/dev/null
    echo "include 'mailroom-dev.conf'" >>"$PGDATA_DIR/postgresql.conf"
  fi
  install -d -o postgres -g postgres -m 0700 "$PGDATA_DIR/log"
  pg_write_config
}

pg_start() {
  if pg_running; then
    say "PostgreSQL already running: reloading its configuration"
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" reload >/dev/null
    return 0
  fi
  say "starting PostgreSQL (socket $PG_SOCKDIR/.s.PGSQL.$PG_PORT)"
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/log/postgresql.log" \
      -w -t 60 -s start; then
    tail -n 20 "$PGDATA_DIR/log/postgresql.log" >&2 || true
    die "PostgreSQL did not start; log: $PGDATA_DIR/log/postgresql.log"
  fi
}

pg_stop() {
  if pg_running; then
    say "stopping PostgreSQL"
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -s stop
  fi
}

pg_create_db() {
  if [[ $(psql_admin -d postgres -tAc "select 1 from pg_database where datname = 'mailroom'") != 1 ]]; then
    say "creating database mailroom"
    psql_admin -d postgres -c "create database mailroom owner postgres"
  fi
}

migrate() {
  [[ -x $CTL_BIN ]] || die "$CTL_BIN was not built"
  say "applying migrations from schema/"
  "$CTL_BIN" -c "$CONF" migrate
}

# --- mailroom.conf ------------------------------------------------------------

write_mailroom_conf() {
  cat >"$CONF.tmp" <<EOF
# mailroom.conf for development, written by dev.sh on every "up".
# The commented sample with every setting is conf/mailroom.conf.

gateway = {
  local_domains = [ "example.com" ];
  # Demo inbound mail comes from 127.0.0.1 as well, so loopback is not
  # internal here; outbound mail is marked by the originating service.
  internal_networks = [ ];
  originating_daemons = [ "ORIGINATING" ];
  shared_inboxes = [ "info@example.com", "service@example.com" ];
  personal_policy = "metadata";
};

milter = {
  socket = "unix:$MILTER_SOCK";
  socket_group = "postfix";
  user = "mailroom";
  spool_dir = "$SPOOL_DIR";
  on_spool_failure = "tempfail";
  gateway_name = "gw.example.com";
  database = "host=$PG_SOCKDIR port=$PG_PORT dbname=mailroom user=mailroom_milter";
};

worker = {
  database = "host=$PG_SOCKDIR port=$PG_PORT dbname=mailroom user=mailroom_worker";
  poll_ms = 2000;
  # Notification mail goes through the originating service, so the milter
  # records it as outbound like any other mail.
  notify = {
    smtp_url = "smtp://$SMTP_SUBMIT";
    from = "mailroom@example.com";
    timeout_ms = 5000;
  };
};

web = {
  database = "host=$PG_SOCKDIR port=$PG_PORT dbname=mailroom user=mailroom_web";
};

ctl = {
  database = "host=$PG_SOCKDIR port=$PG_PORT dbname=mailroom user=postgres";
  schema_dir = "$ROOT/schema";
};
EOF
  mv "$CONF.tmp" "$CONF"
}

# --- mailroom-milter ----------------------------------------------------------

milter_pid() {
  local pid cmdline
  [[ -s $MILTER_PID ]] || return 1
  pid=$(<"$MILTER_PID")
  # Guard against a recycled pid: it must still be our binary.
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == *mailroom-milter* ]] || return 1
  echo "$pid"
}

milter_start() {
  local out i pid
  if [[ ! -x $MILTER_BIN ]]; then
    die "$MILTER_BIN was not built"
  fi
  milter_stop
  if ! out=$("$MILTER_BIN" -c "$CONF" -n 2>&1); then
    printf '%s\n' "$out" >&2
    die "mailroom-milter rejects $CONF"
  fi

  say "starting mailroom-milter (log $LOGDIR/milter.log)"
  rm -f "$MILTER_SOCK"
  printf '\n--- dev.sh: start %s ---\n' "$(date -u +%FT%TZ)" >>"$LOGDIR/milter.log"
  # Runs as root until it has bound its socket, then becomes "mailroom".
  # Sanitizer reports go to files that `./dev.sh test` looks for. A small
  # quarantine keeps ASan from holding 256 MB of freed memory, so that the
  # resident size still shows what the milter itself keeps (tests measure it).
  ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:quarantine_size_mb=16:log_path=$ASAN_DIR/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:log_path=$ASAN_DIR/ubsan" \
    setsid "$MILTER_BIN" -c "$CONF" -f </dev/null >>"$LOGDIR/milter.log" 2>&1 &
  pid=$!
  echo "$pid" >"$MILTER_PID"

  for ((i = 0; i < 300; i++)); do
    [[ -S $MILTER_SOCK ]] && break
    if ! proc_alive "$pid"; then
      tail -n 20 "$LOGDIR/milter.log" >&2
      die "mailroom-milter exited during start-up"
    fi
    sleep 0.1
  done
  if [[ ! -S $MILTER_SOCK ]]; then
    tail -n 20 "$LOGDIR/milter.log" >&2
    die "mailroom-milter did not create $MILTER_SOCK within 30 s"
  fi
  if ! runuser -u postfix -- test -w "$MILTER_SOCK"; then
    warn "Postfix (user postfix) cannot write to $MILTER_SOCK: check milter.socket_group"
  fi
}

milter_stop() {
  local pid i
  if pid=$(milter_pid); then
    say "stopping mailroom-milter (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    # It drains its spool batch and, under ASan, runs the leak check.
    for ((i = 0; i < 300; i++)); do
      proc_alive "$pid" || break
      sleep 0.1
    done
    if proc_alive "$pid"; then
      warn "mailroom-milter did not stop within 30 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$MILTER_PID"
}

# --- Postfix instance ---------------------------------------------------------

postfix_running() {
  [[ -f $PF_CONF/main.cf ]] && postfix -c "$PF_CONF" status >/dev/null 2>&1
}

# postfix -c DIR (and postdrop/postqueue for a non-root sendmail) accept
# only config directories listed in the default instance's main.cf.
register_instance() {
  local current
  [[ -f /etc/postfix/main.cf ]] || echo "# created by mailroom dev.sh" >/etc/postfix/main.cf
  current=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
  case " ${current//,/ } " in
    *" $PF_CONF "*) return 0 ;;
  esac
  say "adding $PF_CONF to alternate_config_directories in /etc/postfix/main.cf"
  postconf -c /etc/postfix -e "alternate_config_directories = ${current:+$current }$PF_CONF"
}

postfix_configure() {
  local uid gid
  uid=$(id -u mailroom)
  gid=$(id -g mailroom)
  install -d -m 0755 "$RUN/postfix" "$PF_CONF" "$PF_QUEUE"
  install -d -o postfix -g postfix -m 0700 "$PF_DATA"
  render "$ROOT/dev/postfix/main.cf.in" "$PF_CONF/main.cf" "RUN=$RUN" "UID=$uid" "GID=$gid"
  render "$ROOT/dev/postfix/master.cf.in" "$PF_CONF/master.cf" "RUN=$RUN" "ROOT=$ROOT" \
    "SMTP_INBOUND=$SMTP_INBOUND" "SMTP_SUBMIT=$SMTP_SUBMIT"
  register_instance
  # check creates the queue subdirectories and fixes their ownership.
  if ! postfix -c "$PF_CONF" check; then
    die "postfix check failed for $PF_CONF (Postfix logs its reasons to $LOGDIR/postfix.log)"
  fi
}

postfix_start() {
  if postfix_running; then
    say "Postfix instance already running: reloading"
    postfix -c "$PF_CONF" reload >/dev/null 2>&1
    return 0
  fi
  local port
  for port in ${SMTP_INBOUND##*:} ${SMTP_SUBMIT##*:}; do
    port_busy "$port" && die "port $port is in use by another program (ss -ltnp 'sport = :$port')"
  done
  say "starting Postfix instance (inbound $SMTP_INBOUND, originating $SMTP_SUBMIT)"
  if ! postfix -c "$PF_CONF" start >/dev/null 2>&1; then
    tail -n 20 "$LOGDIR/postfix.log" >&2 2>/dev/null || true
    die "Postfix did not start. For details run: postfix -c $PF_CONF -o maillog_file=/dev/stdout start-fg"
  fi
}

postfix_stop() {
  if postfix_running; then
    say "stopping Postfix instance"
    postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
  fi
}

# Wait until the instance's queue is empty (all mail delivered), at most $1 s.
postfix_wait_queue() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    [[ -z $(find "$PF_QUEUE"/{incoming,active,deferred,maildrop} -type f 2>/dev/null | head -1) ]] && return 0
    sleep 0.1
  done
  return 1
}

# --- demo mail ----------------------------------------------------------------

# The demo address book goes in once, into an empty address book.
import_demo_addressbook() {
  local n
  n=$(psql_admin -d mailroom -A -t -c 'SELECT count(*) FROM mailroom.organisations') || die "cannot read the address book"
  [[ $n == 0 ]] || return 0
  say "importing the demo address book (demo/addressbook.csv)"
  "$CTL_BIN" -c "$CONF" import contacts "$ROOT/demo/addressbook.csv" || die "importing demo/addressbook.csv failed"
}

# The first sign-in to the web pages: an admin with a random password,
# created and printed once, only while no user exists.
FIRST_ADMIN=
create_first_admin() {
  local n pw
  n=$(psql_admin -d mailroom -A -t -c 'SELECT count(*) FROM mailroom.users') || die "cannot read the users"
  [[ $n == 0 ]] || return 0
  "$CTL_BIN" -c "$CONF" user add admin --name Administrator --role admin >/dev/null || die "creating the admin login failed"
  pw=$("$CTL_BIN" -c "$CONF" user reset admin | sed -n 's/^password for admin: //p')
  [[ -n $pw ]] || die "setting the admin password failed"
  FIRST_ADMIN="login admin, password $pw (shown only now; a new one: ctl/mailroomctl -c .run/mailroom.conf user reset admin)"
}

send_demo_mail() {
  local file dir from to server
  say "sending demo mail from demo/mail/"
  # file, direction, envelope sender, envelope recipient
  while read -r file dir from to; do
    server=$SMTP_INBOUND
    [[ $dir == outbound ]] && server=$SMTP_SUBMIT
    if ! swaks --silent 2 --server "$server" --helo "${from#*@}" \
        --from "$from" --to "$to" --data "@$ROOT/demo/mail/$file"; then
      die "sending demo/mail/$file failed (see $LOGDIR/postfix.log and $LOGDIR/milter.log)"
    fi
    printf '    %-32s %-8s %s -> %s\n' "$file" "$dir" "$from" "$to"
  done <<'EOF'
01-customer-order-question.eml inbound  maria.jensen@example.net            info@example.com
02-supplier-invoice.eml        inbound  billing@papierwerk.example.org      service@example.com
03-newsletter.eml              inbound  bounce-8c1f2e@mailing.example.org   info@example.com
04-german-inquiry.eml          inbound  j.mueller@steuer-mueller.example.net service@example.com
05-outbound-reply.eml          outbound info@example.com                    maria.jensen@example.net
EOF
  postfix_wait_queue 20 || warn "mail is still queued: postqueue -c $PF_CONF -p"
}

print_next_steps() {
  cat <<EOF

mailroom is running.
  inbound SMTP      $SMTP_INBOUND     e.g. swaks --server $SMTP_INBOUND --to info@example.com
  originating SMTP  $SMTP_SUBMIT     (outbound mail, {daemon_name}=ORIGINATING)
  Maildirs          $MAILDIR/example.com/<localpart>/
  everything else   $MAILDIR/sink/    (no mail leaves this machine)
  web pages         $WEB_URL/login  (the calendar feed: $WEB_URL/calendar/TOKEN.ics)
EOF
  [[ -z $FIRST_ADMIN ]] || echo "  first sign-in     $FIRST_ADMIN"
  cat <<EOF
  logs              $LOGDIR/  (milter.log, postfix.log, worker.log, lighttpd.log) and $PGDATA_DIR/log/

See the records, and how the worker sorted them:
  eval "\$(./dev.sh env)"; psql -c 'select * from auditor.messages'
  psql -c 'select subject, class, decided_by, reason from auditor.classifications'
Try the sorting on a file, as the worker would:
  ctl/mailroomctl -c .run/mailroom.conf classify demo/mail/02-supplier-invoice.eml

Stop everything:   ./dev.sh down
EOF
}

# --- lighttpd (mailroom.cgi) ----------------------------------------------------

web_pid() {
  local pid cmdline
  [[ -s $WEB_PID ]] || return 1
  pid=$(<"$WEB_PID")
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == *lighttpd* ]] || return 1
  echo "$pid"
}

web_write_config() {
  install -d -m 0755 "$WEB_DIR" "$WEB_DIR/www"
  install -d -o www-data -g www-data -m 0700 "$WEB_DIR/tmp"
  cat >"$WEB_CONF.tmp" <<EOF
# lighttpd.conf for development, written by dev.sh on every "up".
server.modules = ("mod_alias", "mod_cgi", "mod_setenv")
server.bind = "127.0.0.1"
server.port = $WEB_PORT
server.document-root = "$WEB_DIR/www"
server.upload-dirs = ("$WEB_DIR/tmp")
server.errorlog = "$LOGDIR/lighttpd.log"
server.pid-file = "$WEB_PID"
server.username = "www-data"
server.groupname = "www-data"
server.tag = "mailroom"
alias.url = ("/mailroom.cgi" => "$CGI_BIN", "/static/" => "$STATIC_DIR/")
\$HTTP["url"] =~ "^/mailroom\\.cgi(/|\$)" {
  cgi.assign = ("" => "")
  setenv.add-environment = ("MAILROOM_CONF" => "$CONF")
}
# The pages' stylesheet and script, straight from the checkout: an edit
# shows at the next reload (no-cache revalidates, ETag keeps it cheap).
mimetype.assign = (".css" => "text/css; charset=utf-8", ".js" => "text/javascript; charset=utf-8")
\$HTTP["url"] =~ "^/static/" {
  setenv.add-response-header = (
    "Content-Security-Policy" => "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options" => "nosniff",
    "Referrer-Policy" => "same-origin",
    "Cross-Origin-Resource-Policy" => "same-origin",
    "Cache-Control" => "no-cache"
  )
}
EOF
  mv "$WEB_CONF.tmp" "$WEB_CONF"
}

web_start() {
  [[ -x $CGI_BIN ]] || die "$CGI_BIN was not built"
  web_stop
  port_busy "$WEB_PORT" && die "port $WEB_PORT is in use by another program (ss -ltnp 'sport = :$WEB_PORT')"
  web_write_config
  touch "$LOGDIR/lighttpd.log"
  chown www-data "$LOGDIR/lighttpd.log"
  lighttpd -tt -f "$WEB_CONF" >/dev/null || die "lighttpd refuses $WEB_CONF"
  say "starting lighttpd on $WEB_URL (log $LOGDIR/lighttpd.log)"
  lighttpd -f "$WEB_CONF" || die "lighttpd did not start: see $LOGDIR/lighttpd.log"
}

web_stop() {
  local pid i
  if pid=$(web_pid); then
    say "stopping lighttpd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$WEB_PID"
}

# --- commands -----------------------------------------------------------------

worker_pid() {
  local pid cmdline
  [[ -s $WORKER_PID ]] || return 1
  pid=$(<"$WORKER_PID")
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == *mailroom-worker* ]] || return 1
  echo "$pid"
}

# The worker needs no privileges at all: it runs as "mailroom" from the start
# (setpriv execs it, so the pid is the worker's own).
worker_start() {
  local pid
  [[ -x $WORKER_BIN ]] || die "$WORKER_BIN was not built"
  worker_stop
  say "starting mailroom-worker (log $LOGDIR/worker.log)"
  printf '\n--- dev.sh: start %s ---\n' "$(date -u +%FT%TZ)" >>"$LOGDIR/worker.log"
  chown mailroom "$LOGDIR/worker.log" 2>/dev/null || true
  ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:log_path=$ASAN_DIR/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:log_path=$ASAN_DIR/ubsan" \
    setsid setpriv --reuid=mailroom --regid=mailroom --init-groups -- "$WORKER_BIN" -c "$CONF" -f \
      </dev/null >>"$LOGDIR/worker.log" 2>&1 &
  pid=$!
  echo "$pid" >"$WORKER_PID"
  sleep 0.3
  if ! proc_alive "$pid"; then
    tail -n 20 "$LOGDIR/worker.log" >&2
    die "mailroom-worker exited during start-up"
  fi
}

worker_stop() {
  local pid i
  if pid=$(worker_pid); then
    say "stopping mailroom-worker (pid $pid)"
    # The worker finishes its batch and exits.
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
      proc_alive "$pid" || break
      sleep 0.1
    done
    proc_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$WORKER_PID"
}

cmd_up() {
  install_packages
  ensure_account
  check_traversable
  build
  prepare_run_dir
  write_mailroom_conf
  pg_init
  pg_start
  pg_create_db
  migrate
  milter_start
  worker_start
  postfix_configure
  postfix_start
  web_start
  create_first_admin
  if [[ ${MAILROOM_DEMO:-1} != 0 ]]; then
    import_demo_addressbook
    send_demo_mail
  fi
  print_next_steps
}

cmd_down() {
  # Postfix first so that no new mail arrives, then the milter drains into
  # PostgreSQL, which goes last.
  web_stop
  postfix_stop
  milter_stop
  worker_stop
  pg_stop
}

cmd_env() {
  local kv
  for kv in \
      "PGHOST=$PG_SOCKDIR" "PGPORT=$PG_PORT" "PGDATABASE=mailroom" "PGDATA=$PGDATA_DIR" \
      "PGUSER=mailroom_auditor" \
      "MAILROOM_SMTP=$SMTP_INBOUND" "MAILROOM_SUBMIT=$SMTP_SUBMIT" \
      "MAILROOM_MAILDIR=$MAILDIR" "MAILROOM_CONF=$CONF" "MAILROOM_SPOOL=$SPOOL_DIR" \
      "MAILROOM_POSTFIX_CONF=$PF_CONF" "MAILROOM_LOGDIR=$LOGDIR" "MAILROOM_URL=$WEB_URL"; do
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
}

cmd_status() {
  local pid n
  if pg_running; then
    echo "PostgreSQL       running  socket $PG_SOCKDIR/.s.PGSQL.$PG_PORT"
  else
    echo "PostgreSQL       stopped"
  fi
  if pid=$(milter_pid); then
    echo "mailroom-milter  running  pid $pid, socket $MILTER_SOCK"
  else
    echo "mailroom-milter  stopped"
  fi
  if pid=$(worker_pid); then
    echo "mailroom-worker  running  pid $pid"
  else
    echo "mailroom-worker  stopped"
  fi
  if postfix_running; then
    n=$(find "$PF_QUEUE"/{incoming,active,deferred,hold,maildrop} -type f 2>/dev/null | wc -l)
    echo "Postfix          running  $SMTP_INBOUND inbound, $SMTP_SUBMIT originating, $n queued"
  else
    echo "Postfix          stopped"
  fi
  if pid=$(web_pid); then
    echo "lighttpd         running  pid $pid, $WEB_URL"
  else
    echo "lighttpd         stopped"
  fi
  if [[ -d $SPOOL_DIR ]]; then
    n=$(find "$SPOOL_DIR" -type f 2>/dev/null | wc -l)
    echo "spool            $n file(s) in $SPOOL_DIR"
  fi
  if [[ -d $MAILDIR ]]; then
    n=$(find "$MAILDIR" -path '*/new/*' -type f 2>/dev/null | wc -l)
    echo "Maildirs         $n new message(s) under $MAILDIR"
  fi
}

# Print the harness's summary of failed tests.
show_test_log() {
  [[ -f $ROOT/test-suite.log ]] && cat "$ROOT/test-suite.log" >&2
  return 0
}

# The end of each failed test's log, last, where a short CI excerpt shows it.
show_failed_tests() {
  local trs
  while IFS= read -r trs; do
    echo "--- ${trs%.trs}.log (last 30 lines)" >&2
    tail -n 30 "${trs%.trs}.log" >&2
  done < <(grep -l -E '^:test-result: (FAIL|ERROR)' "$ROOT"/tests/*/*.trs 2>/dev/null)
  return 0
}

cmd_test() {
  export MAILROOM_SANITIZE=1
  local failed=() report
  install_packages
  install_browser_test_deps || failed+=("installing the browser tests' npm packages")
  ensure_account
  build

  say "unit tests: make check"
  if ! as_owner make -j"$(nproc)" check; then
    failed+=("unit tests")
    show_test_log
  fi

  if ! compgen -G "$ROOT/tests/integration/*.sh" >/dev/null; then
    warn "no integration tests in tests/integration/"
  fi
  say "integration tests on a fresh stack"
  cmd_down
  rm -rf "$RUN"
  # A separate process: `up` must stop at its first error.
  if MAILROOM_DEMO=0 "$ROOT/dev.sh" up; then
    eval "$(cmd_env)"
    if ! make -C "$ROOT" check-integration; then
      failed+=("integration tests")
      show_test_log
    fi
  else
    failed+=("starting the stack")
  fi
  cmd_down

  # Every parser of outside input gets a short, bounded libFuzzer run.
  say "fuzzing the parsers (${FUZZ_SECONDS:-20}s each)"
  if ! "$ROOT/fuzz/run.sh"; then
    failed+=("fuzzing")
  fi

  # The milter runs under ASan/UBSan; any report is a failure.
  for report in "$ASAN_DIR"/*; do
    [[ -f $report ]] || continue
    failed+=("sanitizer report $report")
    echo "--- $report" >&2
    cat "$report" >&2
  done

  if ((${#failed[@]})); then
    show_failed_tests
    printf 'dev.sh test: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
  fi
  say "all tests passed"
}

# start|stop one part of a running stack (integration tests use this).
cmd_part() {
  local action=$1 part=${2:-}
  case "$action:$part" in
    start:pg) pg_start ;;
    stop:pg) pg_stop ;;
    start:milter) milter_start ;;
    stop:milter) milter_stop ;;
    start:worker) worker_start ;;
    stop:worker) worker_stop ;;
    start:postfix) postfix_start ;;
    stop:postfix) postfix_stop ;;
    start:web) web_start ;;
    stop:web) web_stop ;;
    *) die "usage: ./dev.sh start|stop pg|milter|worker|postfix|web" ;;
  esac
}

usage() {
  sed -n '2,/^set -euo/p' "$ROOT/dev.sh" | sed -e '$d' -e 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-}
  # Accounts we run commands as (postgres, postfix) may not be able to
  # enter the caller's directory; the checkout they can.
  cd "$ROOT"
  case "$cmd" in
    up) need_root "$@"; cmd_up ;;
    down) need_root "$@"; cmd_down ;;
    env) cmd_env ;;
    status) need_root "$@"; cmd_status ;;
    test) need_root "$@"; cmd_test ;;
    start|stop) need_root "$@"; cmd_part "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
