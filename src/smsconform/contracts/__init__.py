"""One loader for everything under contracts/: the emulator and the suite read only through it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from .catalog import Callback, Catalog, Code, Limit, Machine, Rule, Source, load_catalog
from .errors import ContractError
from .paths import contracts_dir
from .yamlfile import load_yaml

HTTP_DIALECTS = ("fcati", "speedmarket", "painel", "mensagem")
DIALECTS = ("fcati", "speedmarket", "painel", "mensagem", "wbsapi", "smpp", "servicesms")

__all__ = [
    "Callback", "Catalog", "Code", "ContractError", "Contracts", "Limit", "Machine", "Rule", "Source",
    "DIALECTS", "HTTP_DIALECTS", "load_contracts",
]


@dataclass
class Contracts:
    root: Path
    catalog: Catalog
    _yaml_cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def openapi_path(self, name: str) -> Path:
        return self.root / "openapi" / f"{name}.yaml"

    def openapi(self, name: str) -> dict[str, Any]:
        """The OpenAPI document of an HTTP dialect (or ``emulator-control``), as a dict."""
        if name not in self._yaml_cache:
            self._yaml_cache[name] = load_yaml(self.openapi_path(name))[0]
        return self._yaml_cache[name]

    @property
    def wsdl_path(self) -> Path:
        return self.root / "wsdl" / "wbsapi.wsdl"

    def service_wsdl_path(self, name: str) -> Path:
        """The WSDL of a SOAP dialect (``wbsapi``, ``servicesms``), the XSD beside it with the suffix .xsd."""
        return self.root / "wsdl" / f"{name}.wsdl"

    @cached_property
    def smpp(self) -> dict[str, Any]:
        return load_yaml(self.root / "smpp" / "profile.yaml")[0]

    @cached_property
    def emulator_profile(self) -> dict[str, Any]:
        """Reserved numbers and accounts the emulator seeds so every state-dependent code is reachable."""
        return load_yaml(self.root / "emulator" / "profile.yaml")[0]

    def grammar(self, name: str):  # -> lark.Lark
        from .grammars import grammar

        return grammar(self.root, name)

    @cached_property
    def version(self) -> str:
        """A content hash of every contract file: reports name the exact contracts they checked."""
        digest = hashlib.sha256()
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(self.root).as_posix().encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()[:16]


@lru_cache(maxsize=4)
def _load(root: Path) -> Contracts:
    return Contracts(root=root, catalog=load_catalog(root / "catalog"))


def load_contracts(root: Path | None = None) -> Contracts:
    return _load((root or contracts_dir()).resolve())
