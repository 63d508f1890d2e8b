"""fastpen: fast penalized linear regression with a scikit-learn API.

Coordinate-descent and proximal-gradient engines in Cython (dense Fortran and CSC sparse
X, float32 and float64, without copying X) behind drop-in replacements for
scikit-learn's estimators, with paths, cross-validation, stability selection and a
command line.
"""
from ._cv import ElasticNetCV, LassoCV
from ._elastic_net import ElasticNet, Lasso
from ._path import alpha_grid, enet_path, lasso_path
from ._plot import plot_cv, plot_path
from ._ridge import Ridge, RidgeCV, ridge_path
from ._stability import StabilitySelection

__version__ = "0.1.0"
__all__ = ["ElasticNet", "ElasticNetCV", "Lasso", "LassoCV", "alpha_grid", "enet_path", "lasso_path", "plot_cv", "plot_path",
           "Ridge", "RidgeCV", "ridge_path",
           "StabilitySelection",
           "__version__"]
