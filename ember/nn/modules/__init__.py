"""The layer classes of ``ember.nn``."""
from .module import Module  # noqa: F401
from .linear import Identity, Linear, Bilinear  # noqa: F401
from .container import (Sequential, ModuleList, ModuleDict, ParameterList,  # noqa: F401
                        ParameterDict)
from .flatten import Flatten, Unflatten  # noqa: F401
from .activation import (ReLU, ReLU6, SiLU, Mish, SELU, Hardsigmoid, Hardswish,  # noqa: F401
                         Threshold, Hardtanh, LeakyReLU, ELU, CELU, GELU, Sigmoid, Tanh,
                         LogSigmoid, Softsign, Tanhshrink, Softshrink, Hardshrink, Softplus,
                         Softmax, LogSoftmax, Softmin, Softmax2d, GLU, PReLU)
from .conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,  # noqa: F401
                   ConvTranspose3d)
from .pooling import (MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d,  # noqa: F401
                      AvgPool3d, LPPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d,
                      AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, MaxUnpool1d,
                      MaxUnpool2d)
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,  # noqa: F401
                            InstanceNorm2d, InstanceNorm3d, LayerNorm, GroupNorm, RMSNorm,
                            LocalResponseNorm)
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout  # noqa: F401
from .sparse import Embedding  # noqa: F401
from .padding import (ConstantPad1d, ConstantPad2d, ConstantPad3d, ZeroPad1d,  # noqa: F401
                      ZeroPad2d, ZeroPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                      ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, CircularPad1d,
                      CircularPad2d, CircularPad3d)
from .vision import (Upsample, UpsamplingNearest2d, UpsamplingBilinear2d,  # noqa: F401
                     PixelShuffle, PixelUnshuffle, Unfold, Fold, CosineSimilarity,
                     PairwiseDistance)
from .loss import (L1Loss, MSELoss, NLLLoss, CrossEntropyLoss, BCELoss,  # noqa: F401,E402
                   BCEWithLogitsLoss, SmoothL1Loss, HuberLoss, SoftMarginLoss,
                   MultiLabelSoftMarginLoss, CosineEmbeddingLoss, KLDivLoss, MarginRankingLoss,
                   HingeEmbeddingLoss, TripletMarginLoss, GaussianNLLLoss, PoissonNLLLoss)
from .rnn import (RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell,  # noqa: F401,E402
                  GRUCell)
from .attention import MultiheadAttention  # noqa: F401,E402
from .transformer import (TransformerEncoderLayer, TransformerEncoder,  # noqa: F401,E402
                          TransformerDecoderLayer, TransformerDecoder, Transformer)
