"""Security defaults: JSON only (a forged pickle never runs), Redis ACL users with passwords, and TLS with a CA."""

import datetime
import ipaddress
import pickle
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from producer import FleetClient
from slmq.errors import BrokerUnavailableError
from slmq.schemas import SummaryResult
from slmq.stores.broker import create_app
from tests.faults.conftest import RedisServer, Workers, fault_deployment, wait_for
from tests.integration.conftest import Deployment

TIMEOUT_S = 120
QUEUE = "slmq.tiny"


class Canary:
    """Unpickling this creates the canary file: what a forged pickle message would do in a worker."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.path), "w")


def answers(deployment: Deployment) -> None:
    client = FleetClient(deployment.settings())
    assert isinstance(client.submit("summarize", "Box 4 arrived dented.").get(timeout=TIMEOUT_S), SummaryResult)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, redis_proc: RedisServer, tiny_model_dir: Path) -> Deployment:
    return fault_deployment(tmp_path_factory.mktemp("security"), redis_proc.url, tiny_model_dir)


def test_a_forged_pickle_message_is_discarded_without_being_unpickled(
    deployment: Deployment, workers_for: Callable[[Deployment], Workers], tmp_path: Path
) -> None:
    # Given a worker, and a task message serialised with pickle whose payload creates a file when unpickled
    worker = workers_for(deployment).start(node="tiny@pickle")
    canary = tmp_path / "canary"
    app = create_app(deployment.settings())
    pickle.loads(pickle.dumps(Canary(tmp_path / "proof")))
    assert (tmp_path / "proof").exists(), "the canary works when it is unpickled"
    app.send_task("slmq.summarize", kwargs={"payload": Canary(canary)}, queue=QUEUE, serializer="pickle")
    # When the worker receives it, and then an ordinary task
    answers(deployment)
    # Then the forged message was dropped unread: no canary file, an empty queue, and the worker goes on
    assert not canary.exists(), "the worker unpickled a message"
    assert worker.process.poll() is None
    assert "ContentDisallowed" in worker.output() or "disallowed" in worker.output().lower()


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server whose default user is off; only the ACL user ``slmq`` with a password gets in."""
    password = uuid.uuid4().hex
    args = ("--user", "default", "off", "--user", "slmq", "on", f">{password}", "~*", "&*", "+@all")
    server = RedisServer(tmp_path_factory.mktemp("acl-redis"), args=args, url_auth=f"slmq:{password}@")
    server.start()
    yield server
    server.stop()


def test_an_acl_user_with_a_password_runs_the_fleet_and_a_wrong_password_is_refused_typed(
    acl_redis: RedisServer, tiny_model_dir: Path, tmp_path: Path, workers_for: Callable[[Deployment], Workers]
) -> None:
    # Given Redis with only an ACL user, and a worker and producer with its credentials in the URL
    deployment = fault_deployment(tmp_path / "acl", acl_redis.url, tiny_model_dir)
    worker = workers_for(deployment).start(node="tiny@acl")
    # When a task is submitted, Then it is answered
    answers(deployment)
    # And a producer with the wrong password gets BrokerUnavailableError that names the problem
    wrong = fault_deployment(tmp_path / "wrong", acl_redis.url.replace("slmq:", "slmq:x"), tiny_model_dir)
    with pytest.raises(BrokerUnavailableError, match=r"(?i)password|auth"):
        FleetClient(wrong.settings()).submit("summarize", "Box 4 arrived dented.")
    worker.stop(signal.SIGTERM)


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A self-signed CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "slmq test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
        .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, Path]]:
    """A redis-server that speaks only TLS, with a certificate from a CA made here, and a password."""
    directory = tmp_path_factory.mktemp("tls-redis")
    ca, cert, key = make_ca_and_server_cert(directory)
    password = uuid.uuid4().hex
    server = RedisServer(directory, scheme="rediss", url_auth=f":{password}@")
    server.args = (
        "--port", "0", "--tls-port", str(server.port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no", "--requirepass", password,
    )  # fmt: skip
    server.url_query = f"?ssl_cert_reqs=required&ssl_ca_certs={ca}"
    server.start()
    yield server, ca
    server.stop()


def test_tls_with_a_ca_runs_the_fleet_and_an_unknown_ca_is_refused_typed(
    tls_redis: tuple[RedisServer, Path],
    tiny_model_dir: Path,
    tmp_path: Path,
    workers_for: Callable[[Deployment], Workers],
) -> None:
    # Given Redis on TLS only, with a certificate from the test's own CA, and a rediss:// URL naming that CA
    server, _ = tls_redis
    deployment = fault_deployment(tmp_path / "tls", server.url, tiny_model_dir)
    worker = workers_for(deployment).start(node="tiny@tls")
    # When a task is submitted, Then it is answered over TLS
    answers(deployment)
    # And a producer that trusts only the system CAs is refused with BrokerUnavailableError
    system_ca = server.url.split("?")[0] + "?ssl_cert_reqs=required"
    untrusting = fault_deployment(tmp_path / "untrusting", system_ca, tiny_model_dir)
    with pytest.raises(BrokerUnavailableError, match=r"(?i)certificate|ssl"):
        FleetClient(untrusting.settings()).submit("summarize", "Box 4 arrived dented.")
    worker.stop(signal.SIGTERM)
    wait_for(lambda: worker.process.poll() is not None, TIMEOUT_S, "the TLS worker did not stop")
