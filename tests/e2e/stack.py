"""What the end-to-end tests share: the gateway's configuration for a test stack, and people
(registered through the gateway, an admin made with the CLI)."""
import os
import subprocess


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

    def admin(self):
        """{"token"} of a new admin, made as an operator would (`restinu user create-admin`)."""
        email = f"admin-{self.run_id}@example.com"
        subprocess.run([self.binary, "user", "create-admin", "--email", email], env=self.env,
                       input=self.password + "\n", text=True, check=True, capture_output=True)
        return {"email": email, "token": self.login(email)}
