#!/usr/bin/env python3
"""Writes the binary seed inputs of the fuzz corpora (rpm headers, trees,
text pairs for unified diffs, zstd blobs).

The text corpora are plain files copied from real systems; the binary ones
are built here in the formats rpm's headerExport and core/entry.cc's
SerializeTree write, so they can be regenerated when a format changes:
    python3 tests/fuzz/make_seeds.py
"""
import os
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


class RpmHeader:
    """An rpm header blob: il, dl, il index entries, then the data."""

    def __init__(self):
        self.index = b""
        self.data = b""
        self.count = 0

    def _add(self, tag, typ, count, data, align):
        while len(self.data) % align:
            self.data += b"\0"
        self.index += struct.pack(">IIII", tag, typ, len(self.data), count)
        self.data += data
        self.count += 1
        return self

    def string(self, tag, s):
        return self._add(tag, 6, 1, s.encode() + b"\0", 1)

    def strings(self, tag, v):
        return self._add(tag, 8, len(v), b"".join(s.encode() + b"\0" for s in v), 1)

    def int32s(self, tag, v):
        return self._add(tag, 4, len(v), b"".join(struct.pack(">I", x) for x in v), 4)

    def blob(self):
        return struct.pack(">II", self.count, len(self.data)) + self.index + self.data


SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
MD5_EMPTY = "d41d8cd98f00b204e9800998ecf8427e"


def rpm_seeds():
    h = (RpmHeader().string(1000, "bash").string(1001, "5.2.15").string(1002, "3.fc39")
         .int32s(1003, [1]).string(1022, "x86_64")
         .strings(1118, ["/etc/", "/usr/bin/"])
         .strings(1117, ["bashrc", "bash", "sh", "ghost.log"])
         .int32s(1116, [0, 1, 1, 0])
         .strings(1035, [SHA256_ABC, SHA256_ABC, "", ""])
         .int32s(1037, [1, 0, 0, 64]).int32s(5011, [8]))
    write("rpm_header", "bash", h.blob())
    h = (RpmHeader().string(1000, "old").string(1001, "1.0").string(1002, "1")
         .string(1022, "noarch").strings(1027, ["/etc/old.conf", "/usr/share/old/readme"])
         .strings(1035, [MD5_EMPTY, MD5_EMPTY]))
    write("rpm_header", "oldfilenames_md5", h.blob())
    h = RpmHeader().string(1000, "meta").string(1001, "2").string(1002, "0")
    write("rpm_header", "no_files", h.blob())


def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def zigzag(v):
    return ((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF


def tree(entries):
    """entries: (name, type, mask, fields) with fields in SerializeTree order."""
    out = bytes([1]) + varint(len(entries))
    for name, typ, mask, fields in sorted(entries):
        out += varint(len(name)) + name + bytes([typ]) + varint(mask)
        out += fields
    return out


PERM, UID, GID, SIZE, MTIME, LINK, HASH, XATTRS = 2, 4, 8, 16, 32, 1024, 2048, 4096


def tree_seeds():
    content = 1 | PERM | UID | GID | SIZE | HASH | LINK | XATTRS
    file_fields = (varint(0o644) + varint(0) + varint(0) + varint(12)
                   + bytes([1]) + bytes(range(16)) + bytes(16))
    dir_fields = varint(0o755) + varint(0) + varint(0) + bytes(16) + bytes(range(16, 32))
    link_fields = varint(0o777) + varint(0) + varint(0) + varint(9) + varint(9) + b"main.conf" + bytes(16)
    write("tree", "etc", tree([
        (b"app", 2, content, dir_fields),
        (b"current", 3, content, link_fields),
        (b"hosts", 1, content, file_fields),
        (b"passwd", 1, content, file_fields),
    ]))
    sha_fields = varint(0o600) + bytes([2]) + bytes(range(32))
    write("tree", "sha256_structural", tree([
        (b"shadow", 1, 1 | PERM | HASH, sha_fields),
        (b"usr", 2, 1 | (1 << 31), bytes(range(16))),
        (b"new\nline\xff", 1, 1 | MTIME, varint(zigzag(-5))),
    ]))
    write("tree", "empty", tree([]))


def upper_rec(upper, obj, variant, names):
    """One upper_diff record (tests/fuzz/service_targets.cc, FuzzUpperDiff)."""
    code = len(names) - 1
    for d, n in enumerate(names):
        code |= "abcd".index(n) << (2 + 2 * d)
    return bytes([(0x80 if upper else 0) | obj | (variant << 3), code >> 8, code & 0xff])


def upper_diff_seeds():
    # image /a/b (file), /a/c (dir) /b (symlink); upper: whiteout of /a/b,
    # new /d/a, opaque /a/c, metacopy chmod of /b/a.
    write("upper_diff", "whiteout_opaque", b"".join([
        upper_rec(False, 0, 1, "ab"), upper_rec(False, 1, 0, "ac"),
        upper_rec(False, 0, 2, "ba"), upper_rec(False, 2, 0, "c"),
        upper_rec(True, 3, 0, "ab"), upper_rec(True, 0, 3, "da"),
        upper_rec(True, 5, 0, "ac"), upper_rec(True, 6, 1, "ba"),
    ]))
    # renamed directory (redirect to /a), an xattr whiteout, /c excluded
    # (an odd first byte: the first record is the image directory /a/a/a).
    write("upper_diff", "redirect_volume", b"".join([
        upper_rec(False, 1, 0, "aaa"),
        upper_rec(False, 1, 0, "ab"), upper_rec(False, 0, 4, "cd"),
        upper_rec(True, 7, 0, "d"), upper_rec(True, 4, 0, "ab"),
        upper_rec(True, 0, 7, "cd"), upper_rec(True, 7, 3, "bcd"),
    ]))


def unified_diff_seeds():
    """One options byte (context in the low 3 bits, bit 3: a byte cap of
    (high nibble * 16 + 1)), then old NUL new (tests/fuzz/content_targets.cc)."""
    sshd = "".join("%s\n" % l for l in [
        "Port 22", "PermitRootLogin no", "PasswordAuthentication no", "UsePAM yes",
        "X11Forwarding no", "PrintMotd no", "AcceptEnv LANG LC_*",
        "Subsystem sftp /usr/lib/openssh/sftp-server", "AllowUsers admin"])
    changed = (sshd.replace("Port 22", "Port 2222")
               .replace("UsePAM yes", "UsePAM no")
               .replace("AllowUsers admin", "AllowUsers admin intruder"))
    pairs = {
        "config_three_lines": (3, sshd, changed),
        "config_capped": (3 | 8 | (4 << 4), sshd, changed),
        "no_newline_old": (3, "a\nb\nc", "a\nb\nc\n"),
        "no_newline_new": (1, "a\nb\n", "a\nB"),
        "crlf": (3, "k = v\r\nx = y\r\n", "k = v\nx = y\r\n"),
        "added_file": (3, "", "new\nfile\n"),
        "removed_file": (0, "old\n", ""),
        "duplicates": (2, "}\n}\n\n}\n{\n}\n", "}\n{\n}\n}\n\n"),
    }
    for name, (opts, old, new) in pairs.items():
        write("unified_diff", name, bytes([opts]) + old.encode() + b"\0" + new.encode())


def blob_codec_seeds():
    """Two bytes of cap (units of 64 bytes, little-endian), then a frame made
    by zstd(1): with its size recorded, without (read from a pipe), cut short,
    and a skippable frame."""
    text = b"".join(b"line %d of a config file\n" % i for i in range(200))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "f")
        with open(path, "wb") as f:
            f.write(text)
        sized = subprocess.run(["zstd", "-q", "-c", "--check", path],
                               check=True, capture_output=True).stdout
    piped = subprocess.run(["zstd", "-q", "-c"], input=text, check=True,
                           capture_output=True).stdout
    cap = struct.pack("<H", 1024)
    write("blob_codec", "sized", cap + sized)
    write("blob_codec", "piped", cap + piped)
    write("blob_codec", "over_cap", struct.pack("<H", 2) + sized)
    write("blob_codec", "cut_short", cap + sized[:len(sized) // 2])
    write("blob_codec", "skippable", cap + struct.pack("<II", 0x184D2A50, 4) + b"abcd")


if __name__ == "__main__":
    rpm_seeds()
    tree_seeds()
    upper_diff_seeds()
    unified_diff_seeds()
    blob_codec_seeds()
