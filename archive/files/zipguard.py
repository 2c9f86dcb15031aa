"""Open DOCX/OFD packages without being blown up: sizes are checked before anything is inflated,
and every member is read with a cap, since a zip's declared sizes can lie."""

from __future__ import annotations

import io
import zipfile

from archive.files.limits import FileLimits, FileRejected

_BIG_MEMBER = 1024 * 1024  # ratios of small members mean nothing (XML compresses 20×)


class SafeZip:
    def __init__(self, body: bytes, limits: FileLimits, kind: str) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(body))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise FileRejected(f"corrupt {kind} package: {exc}") from None
        if len(infos) > limits.max_members:
            raise FileRejected(f"{kind} package has {len(infos)} members "
                               f"(limit {limits.max_members}): zip bomb?")
        total = sum(i.file_size for i in infos)
        if total > limits.max_unzipped:
            raise FileRejected(f"{kind} package unpacks to {total // (1 << 20)} MiB "
                               f"(limit {limits.max_unzipped // (1 << 20)} MiB): zip bomb?")
        for info in infos:
            if info.file_size > _BIG_MEMBER and (
                    info.file_size > limits.max_ratio * max(info.compress_size, 1)):
                raise FileRejected(
                    f"{kind} member {info.filename} inflates "
                    f"{info.file_size // max(info.compress_size, 1)}× "
                    f"(limit {limits.max_ratio}×): zip bomb")
        self.limits = limits
        self.kind = kind
        self.read_total = 0
        self.names = {i.filename for i in infos}

    def read(self, name: str) -> bytes:
        """A member's bytes, never more than the package's limit in total."""
        budget = self.limits.max_unzipped - self.read_total
        try:
            with self.zip.open(name) as member:
                data = member.read(budget + 1)
        except KeyError:
            raise FileRejected(f"{self.kind} package lacks {name}") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise FileRejected(f"corrupt {self.kind} member {name}: {exc}") from None
        self.read_total += len(data)
        if len(data) > budget:
            raise FileRejected(f"{self.kind} member {name} inflates past "
                               f"{self.limits.max_unzipped // (1 << 20)} MiB: zip bomb")
        return data
