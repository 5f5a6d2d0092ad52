"""The archive policy: which zip and tar archives the portal unpacks, one set of rules for review and mirror.

The data check (`submissions.inspection.manifests`) reports, before approval, what the mirror's unpacking
(`catalog.archives`) would refuse; both ask this module, so that what passes review can be published. An
entry is refused when its name could leave the unpacking folder (absolute, drive letter, "..", control
characters, not UTF-8, a name part over 255 bytes), when it is not a regular file or folder (links,
devices, FIFOs), when it is encrypted, when its path repeats another's (or puts a file where a folder is);
the archive is refused over the limits on entries, unpacked bytes and compression ratio (`MIRROR_MAX_FILES`,
`MIRROR_MAX_BYTES`, `MIRROR_MAX_RATIO`).

Every rule answers with a stored message (`portal.i18n.message`) a curator can act on, or None. This module
decides only: it reads no archive and writes nothing (the callers stream, list and unpack).
See https://cheatsheetseries.owasp.org/cheatsheets/File_Upload_Cheat_Sheet.html
"""

import dataclasses
import re
import stat
import tarfile
import zipfile
from collections.abc import Callable

from django.conf import settings
from django.utils.translation import gettext_noop

from portal.i18n import message, number

# Small, highly compressible files (a CSV of empty cells, a sparse mask) are common and harmless; the ratio
# only becomes a threat in bulk, so it counts once this many bytes have been unpacked.
RATIO_GRACE_BYTES = 1024 * 1024
MAX_NAME_COMPONENT_BYTES = 255

# What an archive entry is, whatever the archive's format says.
FILE, FOLDER, SYMLINK, HARDLINK, DEVICE, FIFO, OTHER = (
    "file",
    "folder",
    "symlink",
    "hardlink",
    "device",
    "fifo",
    "other",
)

_ZIP_ENCRYPTED_FLAG = 0x1
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_KIND_PROBLEMS = {
    DEVICE: gettext_noop("The entry %(entry)s is a device file."),
    FIFO: gettext_noop("The entry %(entry)s is a FIFO (named pipe)."),
    OTHER: gettext_noop("The entry %(entry)s is not a regular file or folder."),
}


def zip_kind(info: zipfile.ZipInfo) -> str:
    """Return what a zip entry is, from its Unix mode (and the folder marks of Windows tools)."""
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type == stat.S_IFLNK:
        return SYMLINK
    if file_type in (stat.S_IFCHR, stat.S_IFBLK):
        return DEVICE
    if file_type == stat.S_IFIFO:
        return FIFO
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        return OTHER
    # Some Windows tools mark folders with a trailing backslash instead of a slash.
    if info.is_dir() or (info.filename.endswith("\\") and info.file_size == 0):
        return FOLDER
    return FILE


def zip_encrypted(info: zipfile.ZipInfo) -> bool:
    """True when a zip entry is encrypted (password-protected)."""
    return bool(info.flag_bits & _ZIP_ENCRYPTED_FLAG)


def tar_kind(member: tarfile.TarInfo) -> str:
    """Return what a tar member is."""
    if member.issym():
        return SYMLINK
    if member.islnk():
        return HARDLINK
    if member.ischr() or member.isblk():
        return DEVICE
    if member.isfifo():
        return FIFO
    if member.isdir():
        return FOLDER
    if member.isreg():
        return FILE
    return OTHER


def ratio_exceeded(expanded: int, compressed: int, max_ratio: float) -> bool:
    """True when `expanded` bytes out of `compressed` ones make a decompression bomb (after the grace)."""
    return expanded > max(max_ratio * max(compressed, 1), RATIO_GRACE_BYTES)


def gzip_bomb(max_ratio):
    """Return the finding for a gzip file that expands beyond the ratio."""
    return message(
        gettext_noop(
            "The gzip expands more than %(ratio)s times its compressed size (a decompression bomb)."
        ),
        ratio=number(max_ratio),
    )


@dataclasses.dataclass
class ArchiveRules:
    """The rules applied to one archive, entry by entry, with the limits and the paths seen so far.

    `shown` turns an entry's name into the text the messages quote (the data check masks personal data in
    names). Methods return a stored message when the archive must be refused, else None.
    """

    max_files: int
    max_total_bytes: int
    max_ratio: float
    shown: Callable[[str], str] = str
    entries: int = 0
    written: int = 0
    kinds: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_settings(cls, **options):
        """Return the rules with the mirror's limits from the settings."""
        return cls(
            max_files=settings.MIRROR_MAX_FILES,
            max_total_bytes=settings.MIRROR_MAX_BYTES,
            max_ratio=settings.MIRROR_MAX_RATIO,
            **options,
        )

    def _about(self, msgid, entry, **params):
        return message(msgid, entry=repr(self.shown(entry)), **params)

    # -- the archive as a whole, from its headers -----------------------------------------------------

    def too_many_entries(self, count):
        """Refuse an archive whose headers list more entries than the limit."""
        if count <= self.max_files:
            return None
        return message(
            gettext_noop(
                "The archive has %(entries)s entries, over the limit of %(limit)s files and folders."
            ),
            entries=number(count),
            limit=number(self.max_files),
        )

    def too_large(self, declared):
        """Refuse an archive whose headers declare more unpacked bytes than the limit."""
        if declared <= self.max_total_bytes:
            return None
        return message(
            gettext_noop("The archive declares %(size)s bytes, over the limit of %(limit)s bytes."),
            size=number(declared),
            limit=number(self.max_total_bytes),
        )

    def bomb(self, expanded, compressed):
        """Refuse an archive whose entries, together, expand beyond the ratio."""
        if not ratio_exceeded(expanded, compressed, self.max_ratio):
            return None
        return message(
            gettext_noop(
                "The archive expands to more than %(ratio)s times its compressed size (a decompression bomb)."
            ),
            ratio=number(self.max_ratio),
        )

    # -- each entry ---------------------------------------------------------------------------------------

    def count(self, entry):
        """Count one more entry (file or folder); refuse it past the limit."""
        self.entries += 1
        if self.entries <= self.max_files:
            return None
        return self._about(
            gettext_noop("The entry %(entry)s is beyond the limit of %(limit)s files and folders."),
            entry,
            limit=number(self.max_files),
        )

    def admit(self, entry, *, kind, link_target=None, encrypted=False):
        """Return (path parts, None) for an entry that may be unpacked, or (None, the refusal)."""
        parts, problem = self._parts(entry)
        if problem is None:
            problem = self._kind_problem(entry, kind, link_target)
        if problem is None and encrypted:
            problem = self._about(
                gettext_noop(
                    "The entry %(entry)s is encrypted (password-protected archives cannot be unpacked)."
                ),
                entry,
            )
        if problem is None and not parts and kind != FOLDER:
            problem = self._about(gettext_noop("The entry %(entry)s is a file without a name."), entry)
        if problem is None and parts:
            problem = self._claim(entry, parts, is_dir=kind == FOLDER)
        return (None, problem) if problem is not None else (parts, None)

    def _parts(self, entry):
        """Split an entry name into path components, refusing any name that could leave the folder."""
        if not entry:
            return None, self._about(gettext_noop("The entry %(entry)s has an empty name."), entry)
        try:
            entry.encode("utf-8")
        except UnicodeEncodeError:
            return None, self._about(
                gettext_noop("The entry %(entry)s has a name that is not valid UTF-8."), entry
            )
        if any(ord(char) < 32 or ord(char) == 127 for char in entry):
            return None, self._about(
                gettext_noop("The entry %(entry)s has control characters in its name."), entry
            )
        # Archives made on Windows may use backslashes as separators; reading them as separators lets the
        # ".." check below see "..\\evil" for what it is on the machine that will use the files.
        name = entry.replace("\\", "/")
        if name.startswith("/"):
            return None, self._about(gettext_noop("The entry %(entry)s has an absolute path."), entry)
        if _DRIVE_LETTER.match(name):
            return None, self._about(
                gettext_noop("The entry %(entry)s starts with a Windows drive letter."), entry
            )
        parts = tuple(part for part in name.split("/") if part not in ("", "."))
        if ".." in parts:
            return None, self._about(
                gettext_noop("The entry %(entry)s climbs out of the folder with '..'."), entry
            )
        if any(len(part.encode("utf-8")) > MAX_NAME_COMPONENT_BYTES for part in parts):
            return None, self._about(
                gettext_noop("The entry %(entry)s has a name part longer than %(limit)s bytes."),
                entry,
                limit=MAX_NAME_COMPONENT_BYTES,
            )
        return parts, None

    def _kind_problem(self, entry, kind, link_target):
        if kind in (FILE, FOLDER):
            return None
        if kind == SYMLINK and link_target is None:
            return self._about(gettext_noop("The entry %(entry)s is a symbolic link."), entry)
        if kind == SYMLINK:
            return self._about(
                gettext_noop("The entry %(entry)s is a symbolic link (to %(target)s)."),
                entry,
                target=repr(self.shown(link_target)),
            )
        if kind == HARDLINK:
            return self._about(
                gettext_noop("The entry %(entry)s is a hard link (to %(target)s)."),
                entry,
                target=repr(self.shown(link_target or "")),
            )
        return self._about(_KIND_PROBLEMS[kind], entry)

    def _claim(self, entry, parts, *, is_dir):
        """Record a path; refuse a duplicate file, or a file and a folder with the same path."""
        for depth in range(1, len(parts)):
            if self.kinds.setdefault(parts[:depth], FOLDER) == FILE:
                return self._about(
                    gettext_noop("The entry %(entry)s lies inside %(folder)s, which is a file."),
                    entry,
                    folder=repr(self.shown("/".join(parts[:depth]))),
                )
        previous = self.kinds.get(parts)
        if previous == FILE:
            return self._about(
                gettext_noop("The entry %(entry)s appears twice in the archive (duplicate entry)."), entry
            )
        if previous == FOLDER and not is_dir:
            return self._about(
                gettext_noop("The entry %(entry)s is a file with the same path as a folder."), entry
            )
        self.kinds[parts] = FOLDER if is_dir else FILE
        return None

    # -- bytes written ------------------------------------------------------------------------------------

    def charge(self, *, entry, size, entry_written, entry_compressed, archive_compressed):
        """Account for `size` more unpacked bytes; refuse before they are written if over a limit.

        `entry_compressed` (the entry's compressed size) and `archive_compressed` (the compressed bytes
        consumed so far) may be None when the format does not tell (a tar's members).
        """
        self.written += size
        if self.written > self.max_total_bytes:
            return self._about(
                gettext_noop(
                    "The entry %(entry)s takes the unpacked size over the limit of %(limit)s bytes."
                ),
                entry,
                limit=number(self.max_total_bytes),
            )
        if entry_compressed is not None and (
            problem := self.entry_bomb(entry, entry_written, entry_compressed)
        ):
            return problem
        if archive_compressed is not None and ratio_exceeded(
            self.written, archive_compressed, self.max_ratio
        ):
            return self._about(
                gettext_noop(
                    "The entry %(entry)s takes the archive to more than %(ratio)s times its compressed size "
                    "(a decompression bomb)."
                ),
                entry,
                ratio=number(self.max_ratio),
            )
        return None

    def entry_bomb(self, entry, expanded, compressed):
        """Refuse an entry that expands beyond the ratio on its own."""
        if not ratio_exceeded(expanded, compressed, self.max_ratio):
            return None
        return self._about(
            gettext_noop(
                "The entry %(entry)s expands more than %(ratio)s times its compressed size (a decompression bomb)."
            ),
            entry,
            ratio=number(self.max_ratio),
        )
