"""``ember.nn.functional``: the functional form of every layer, as composites."""
from .linear import linear, bilinear  # noqa: F401
from .loss import (nll_loss, cross_entropy, binary_cross_entropy,  # noqa: F401,E402
                   binary_cross_entropy_with_logits, l1_loss, mse_loss, smooth_l1_loss,
                   huber_loss, soft_margin_loss, multilabel_soft_margin_loss,
                   cosine_embedding_loss, kl_div, margin_ranking_loss, hinge_embedding_loss,
                   pairwise_distance, triplet_margin_loss, gaussian_nll_loss, poisson_nll_loss)
from .activation import (relu, relu_, relu6, threshold, hardtanh, leaky_relu,  # noqa: F401
                         elu, selu, celu, gelu, sigmoid, tanh, silu, softplus, mish, logsigmoid, softsign,
                         hardsigmoid, hardswish, tanhshrink, softshrink, hardshrink, prelu, glu,
                         softmax, log_softmax, softmin, elu_, leaky_relu_, hardtanh_,
                         threshold_)
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                   conv_transpose3d)
from .pooling import (max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices,  # noqa: F401
                      max_pool2d_with_indices, avg_pool1d, avg_pool2d, avg_pool3d, lp_pool2d,
                      adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                      adaptive_max_pool1d, adaptive_max_pool2d, max_unpool1d, max_unpool2d)
from .normalization import (batch_norm, instance_norm, layer_norm, group_norm,  # noqa: F401
                            rms_norm, local_response_norm)
from .dropout import dropout, dropout1d, dropout2d, dropout3d, alpha_dropout  # noqa: F401
from .sparse import embedding, one_hot  # noqa: F401
from .vision import (pad, interpolate, upsample, upsample_nearest, upsample_bilinear,  # noqa: F401
                     unfold, fold, pixel_shuffle, pixel_unshuffle)
from .distance import normalize, cosine_similarity  # noqa: F401
from .attention import (scaled_dot_product_attention,  # noqa: F401,E402
                        multi_head_attention_forward)
