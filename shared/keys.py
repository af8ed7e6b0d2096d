"""Key material: the token signing key pair and each service's Flask secret."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _create_once(path: Path, content: bytes) -> None:
    """Write the file unless it exists; two processes racing both end up reading one winner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_bytes(content)
    os.chmod(temporary, 0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def signing_key_files(data_dir: Path) -> tuple[Path, Path]:
    """Paths of the Ed25519 key pair in the data folder, created on first use."""
    private_path, public_path = data_dir / "jwt-private.pem", data_dir / "jwt-public.pem"
    if private_path.exists() and public_path.exists():
        return private_path, public_path
    # Only to create the keys: every later start, and every worker, does without cryptography.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not private_path.exists():
        key = Ed25519PrivateKey.generate()
        _create_once(
            private_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
    if not public_path.exists():
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        _create_once(
            public_path,
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
    return private_path, public_path


def secret_key(data_dir: Path, service: str) -> str:
    path = data_dir / f"secret-{service}.key"
    if not path.exists():
        _create_once(path, secrets.token_hex(32).encode())
    return path.read_text().strip()
