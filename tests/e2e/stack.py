"""What the end-to-end tests share: the gateway's configuration for a test stack, and people
(registered through the gateway, an admin made with the CLI)."""
import os
import random
import subprocess


def random_pan():
    """A PAN of the right shape (five letters, four digits, a letter; the fourth letter P for a
    person), different on every call."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return ("".join(random.choice(letters) for _ in range(3)) + "P" + random.choice(letters) +
            f"{random.randint(1, 9999):04d}" + random.choice(letters))


def write_gateway_config(path, upstreams, policies=("default", "auth")):
    """A gateway config naming each service's instance (`upstreams`: service -> port), checking
    health often, and with the rate policies `policies` raised out of the test's way. The routes
    are the shipped ones (none set here)."""
    lines = ["gateway:", "  upstreams:"]
    lines += [f"    {service}: 127.0.0.1:{port}" for service, port in upstreams.items()]
    lines += ["  health:", "    interval: 200ms", "    timeout: 500ms", "  rate_policies:"]
    lines += [f"    {p}: {{limit: 1000000, window: 60s}}" for p in policies]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class People:
    """Accounts of one test run, all with `password`, their e-mails unique to the run."""

    def __init__(self, gw, binary, env, password):
        self.gw = gw
        self.binary = binary
        self.env = env
        self.password = password
        self.run_id = os.urandom(4).hex()

    def login(self, email):
        st, _, body = self.gw.req("POST", "/api/v1/auth/login",
                                  {"email": email, "password": self.password})
        return body["access_token"] if st == 200 else None

    def register(self, name):
        """{"email", "token", "id"} of a new account (investor)."""
        email = f"{name}-{self.run_id}@example.com"
        self.gw.req("POST", "/api/v1/auth/register",
                    {"email": email, "password": self.password, "name": name})
        token = self.login(email)
        _, _, me = self.gw.req("GET", "/api/v1/users/me", token=token)
        return {"email": email, "token": token, "id": me["id"]}

    def approve_kyc(self, who, admin):
        """`who` submits a KYC document through the gateway and `admin` approves it."""
        st, _, body = self.gw.req("POST", "/api/v1/users/me/kyc",
                                  {"document_type": "pan", "document_number": random_pan(),
                                   "full_name": "Asha Rao", "date_of_birth": "1990-05-17"},
                                  token=who["token"])
        assert st == 202, (st, body)
        st, _, body = self.gw.req("POST", f"/api/v1/admin/kyc/{who['id']}/approve", {},
                                  token=admin["token"])
        assert st == 200, (st, body)

    def admin(self):
        """{"token"} of a new admin, made as an operator would (`restinu user create-admin`)."""
        email = f"admin-{self.run_id}@example.com"
        subprocess.run([self.binary, "user", "create-admin", "--email", email], env=self.env,
                       input=self.password + "\n", text=True, check=True, capture_output=True)
        return {"email": email, "token": self.login(email)}


class Stack:
    """The services of one end-to-end run as `make test` starts them: one process per service
    on free loopback ports, on the PostgreSQL and Redis of the test environment, their logs in
    `work`. Used as a context manager: every process is stopped on the way out."""

    def __init__(self, binary, work, services, free_port, extra_env=None):
        self.binary = binary
        self.work = work
        self.procs = {}
        self.ports = {n: free_port() for n in (*services, "gateway")}
        pg = f"host=127.0.0.1 port={os.environ['RESTINU_TEST_PG_PORT']} user=postgres"
        env = dict(os.environ)
        env.update({
            "RESTINU_PG__URL": pg,
            "RESTINU_REDIS__PORT": os.environ["RESTINU_TEST_REDIS_PORT"],
            "RESTINU_HTTP__THREADS": "1",
            "RESTINU_KYC__ENCRYPTION_KEY": env.get("RESTINU_KYC__ENCRYPTION_KEY") or
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "RESTINU_AUTH__KEY_ENCRYPTION_KEY": env.get("RESTINU_AUTH__KEY_ENCRYPTION_KEY") or
            "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
            "RESTINU_LOG__ACCESS": "false",
        })
        env.update(extra_env or {})
        self.env = env

    def migrate(self):
        subprocess.run([self.binary, "migrate", "all", "--create-database"], env=self.env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self, name, extra=None, args=()):
        e = dict(self.env)
        e.update({"RESTINU_HTTP__PORT": str(self.ports[name]), "RESTINU_INSTANCE": name})
        e.update(extra or {})
        with open(os.path.join(self.work, name + ".log"), "ab") as log:
            self.procs[name] = subprocess.Popen([self.binary, name, *args], env=e, stdout=log,
                                                stderr=log)

    def start_gateway(self, policies=("default", "auth")):
        """The gateway with the shipped routes; services not started point at the user
        service (their routes answer 404 there)."""
        config = os.path.join(self.work, "gateway.yaml")
        upstreams = {s: self.ports.get(s, self.ports["user"])
                     for s in ("user", "property", "notification", "payment", "blockchain")}
        write_gateway_config(config, upstreams, policies)
        self.start("gateway", {}, ["--config", config])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        return False
