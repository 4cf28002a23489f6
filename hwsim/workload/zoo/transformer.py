"""Transformer encoders: BERT-base (text) and ViT-B/16 (images).

Both share one encoder block; they differ in where the LayerNorm sits (BERT normalises after
each residual add, ViT before each sub-layer) and in the layer names of their reference
implementations.

The attention scale ``1/sqrt(d_head)`` and BERT's additive padding mask are not layers: the
scale folds into the query weights and a full 128-token sequence has no padding.
"""

from __future__ import annotations

from typing import Callable

from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.network import Network

# Sub-layer names inside one encoder block, after each reference implementation.
_BERT_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "scores": "attention.self.scores", "softmax": "attention.self.softmax", "context": "attention.self.context",
    "out": "attention.output.dense", "add1": "attention.output.add", "ln1": "attention.output.LayerNorm",
    "fc1": "intermediate.dense", "fc2": "output.dense", "add2": "output.add", "ln2": "output.LayerNorm",
}
# torchvision packs Q, K and V into one in_proj (768 -> 2304, with bias); three 768-wide GEMMs
# have the same weights, bias and MACs and give the matmuls their separate operands.
_VIT_NAMES = {
    "q": "self_attention.in_proj_q", "k": "self_attention.in_proj_k", "v": "self_attention.in_proj_v",
    "scores": "self_attention.scores", "softmax": "self_attention.softmax", "context": "self_attention.context",
    "out": "self_attention.out_proj", "add1": "add_1", "ln1": "ln_1",
    "fc1": "mlp.0", "fc2": "mlp.3", "add2": "add_2", "ln2": "ln_2",
}


def _residual(b: NetworkBuilder, x: str, sublayer: Callable[[str], str], ln: str, add: str, pre_norm: bool) -> str:
    if pre_norm:
        return b.eltwise(add, [x, sublayer(b.eltwise(ln, x, "layernorm"))], "add")
    return b.eltwise(ln, b.eltwise(add, [x, sublayer(x)], "add"), "layernorm")


def _encoder_block(
    b: NetworkBuilder, x: str, prefix: str, names: dict[str, str], heads: int, ffn: int, pre_norm: bool
) -> str:
    """Multi-head self-attention and a GELU MLP, each inside a residual connection."""
    n = {key: f"{prefix}.{name}" for key, name in names.items()}
    width = b.shape(x)[-1]

    def attention(h: str) -> str:
        q, k, v = (b.gemm(n[key], h, width, bias=True) for key in "qkv")
        s = b.matmul(n["scores"], q, k, heads=heads, transpose_b=True)
        p = b.eltwise(n["softmax"], s, "softmax")
        return b.gemm(n["out"], b.matmul(n["context"], p, v, heads=heads, merge_heads=True), width, bias=True)

    def mlp(h: str) -> str:
        return b.gemm(n["fc2"], b.gemm(n["fc1"], h, ffn, bias=True, activation="gelu"), width, bias=True)

    x = _residual(b, x, attention, n["ln1"], n["add1"], pre_norm)
    return _residual(b, x, mlp, n["ln2"], n["add2"], pre_norm)


def _first_token(b: NetworkBuilder, x: str, name: str) -> str:
    """Row 0 of an ``(S, F)`` sequence: the head that follows costs one token's MACs, not ``S``."""
    return b.slice(name, x, axis=0, start=0, stop=1)


def bert_base() -> Network:
    """BERT-base encoder with its pooler, at sequence length 128.

    Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language
    Understanding", NAACL 2019: BERT-base (L=12, H=768, A=12, FFN 3072, GELU, post-LN),
    laid out as Hugging Face ``BertModel`` with the ``bert-base-uncased`` configuration.
    """
    seq, hidden, layers, heads, ffn = 128, 768, 12, 12, 3072
    b = NetworkBuilder(
        "bert_base",
        source=(
            "Devlin et al., 'BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding', "
            "NAACL 2019 (BERT-base: L=12, H=768, A=12); layer configuration of Hugging Face transformers "
            "BertModel with the bert-base-uncased config (vocab 30522, 512 positions, 2 token types, FFN 3072, "
            "GELU, post-LN, tanh pooler on the first token); sequence length 128"
        ),
        inputs={"tokens": (seq,)},
    )
    # Position ids (0..127) and token-type ids (all 0) are index tensors of the same (S,) shape as
    # the token ids: the look-ups read the same amount whichever ids they are given.
    tables = {"word_embeddings": 30522, "position_embeddings": 512, "token_type_embeddings": 2}
    looked_up = [b.embedding(f"embeddings.{table}", "tokens", rows, hidden) for table, rows in tables.items()]
    x = b.eltwise("embeddings.LayerNorm", b.eltwise("embeddings.add", looked_up, "add"), "layernorm")
    for i in range(layers):
        x = _encoder_block(b, x, f"encoder.layer.{i}", _BERT_NAMES, heads, ffn, pre_norm=False)
    b.gemm("pooler.dense", _first_token(b, x, "pooler.first_token"), hidden, bias=True, activation="tanh")
    return b.build()


def vit_b16() -> Network:
    """ViT-B/16 at 224x224 with the 1000-class head.

    Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at
    Scale", ICLR 2021: ViT-Base, 16x16 patches, as ``torchvision.models.vit_b_16`` (pre-LN).
    """
    hidden, layers, heads, ffn = 768, 12, 12, 3072
    b = NetworkBuilder(
        "vit_b16",
        source=(
            "Dosovitskiy et al., 'An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale', "
            "ICLR 2021 (ViT-B/16); layer configuration of torchvision.models.vit_b_16 (16x16 stride-16 patch conv "
            "with bias, class token, learned position embedding, 12 pre-LN blocks, MLP 3072 GELU, final LN, "
            "Linear 768->1000 head on the class token); 224x224 input"
        ),
        inputs={"image": (3, 224, 224)},
    )
    patches = b.conv("conv_proj", "image", hidden, 16, stride=16, bias=True)
    _, h, w = b.shape(patches)
    # torchvision flattens the patch grid and permutes channels last: one token per patch.
    tokens = b.reshape("conv_proj.tokens", patches, (h * w, hidden))
    x = b.concat("class_token.concat", [b.parameter("class_token", (1, hidden)), tokens], axis=0)
    pos = b.parameter("encoder.pos_embedding", (h * w + 1, hidden))
    x = b.eltwise("encoder.pos_add", [x, pos], "add")
    for i in range(layers):
        x = _encoder_block(b, x, f"encoder.layers.encoder_layer_{i}", _VIT_NAMES, heads, ffn, pre_norm=True)
    x = b.eltwise("encoder.ln", x, "layernorm")
    b.gemm("heads.head", _first_token(b, x, "heads.class_token"), 1000, bias=True)
    return b.build()
