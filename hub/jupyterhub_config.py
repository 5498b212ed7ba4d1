# JupyterHub's configuration for a class of this course on one machine.
#
# `python -m autograder hub start` (make hub) runs `jupyterhub -f` on this file, as root, with
# NN_HUB_STATE naming the hub's state file (ports, accounts, folders). Read it as the worked
# example of the README's "Running a class on JupyterHub"; a real class changes the
# authenticator (below) and, for a public address, puts TLS in front.
import json
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821
state = json.loads(Path(os.environ["NN_HUB_STATE"]).read_text())
here = Path(state["dir"])

# Loopback only: the hub's page, its API and the proxy's API.
c.JupyterHub.bind_url = f"http://127.0.0.1:{state['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = state["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{state['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [state["proxy"]]
c.ConfigurableHTTPProxy.pid_file = str(here / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{here / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(here / "cookie_secret")
c.JupyterHub.pid_file = str(here / "jupyterhub.pid")

# A test's authenticator: the accounts `hub start` made, one password for all of them (in a
# file only root reads). Not for a class: anyone who learns the password logs in as anyone.
# A class uses its institution's login (an OAuth or LTI authenticator) or, on a machine
# whose students have Unix passwords, JupyterHub's default PAMAuthenticator.
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = (here / "password").read_text().strip()
c.Authenticator.allowed_users = set(state["students"]) | {state["instructor"]}

# Each user's server runs as that Unix user (the hub runs as root and switches user), from
# the course's venv, in JupyterLab, with the configuration of the user's role: the
# instructor gets nbgrader's formgrader (opened in a browser tab of its own: JupyterHub 4.1
# and later forbid the iframe of JupyterLab's Formgrader tab); students get the Assignment
# List and Validate only.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "JUPYTER_CONFIG_PATH": lambda spawner: state["config"][
        "instructor" if spawner.user.name == state["instructor"] else "student"],
    "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
}
