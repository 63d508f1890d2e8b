"""fastpen: fast penalized linear regression with a scikit-learn API.

Coordinate-descent engine in Cython (dense Fortran and CSC sparse X, float32 and
float64, without copying X) behind drop-in replacements for scikit-learn's estimators.
"""
from ._cv import ElasticNetCV, LassoCV
from ._elastic_net import ElasticNet, Lasso
from ._path import alpha_grid, enet_path, lasso_path
from ._plot import plot_cv, plot_path

__version__ = "0.1.0"
__all__ = ["ElasticNet", "ElasticNetCV", "Lasso", "LassoCV", "alpha_grid", "enet_path", "lasso_path", "plot_cv", "plot_path",
           "__version__"]
