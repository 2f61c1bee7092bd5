#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace linalg {

class Matrix {
public:
    Matrix(std::size_t rows, std::size_t cols, double fill = 0.0)
        : rows_(rows), cols_(cols), data_(rows * cols, fill) {
        if (rows == 0 || cols == 0) {
            throw std::invalid_argument("matrix dimensions must be positive");
        }
    }

    static Matrix identity(std::size_t n) {
        Matrix result(n, n);
        for (std::size_t i = 0; i < n; ++i) {
            result(i, i) = 1.0;
        }
        return result;
    }

    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }

    double& operator()(std::size_t row, std::size_t col) {
        return data_.at(row * cols_ + col);
    }

    double operator()(std::size_t row, std::size_t col) const {
        return data_.at(row * cols_ + col);
    }

    Matrix operator*(const Matrix& other) const {
        if (cols_ != other.rows_) {
            throw std::invalid_argument("shape mismatch in multiplication");
        }
        Matrix result(rows_, other.cols_);
        for (std::size_t i = 0; i < rows_; ++i) {
            for (std::size_t k = 0; k < cols_; ++k) {
                const double left = (*this)(i, k);
                for (std::size_t j = 0; j < other.cols_; ++j) {
                    result(i, j) += left * other(k, j);
                }
            }
        }
        return result;
    }

    Matrix transpose() const {
        Matrix result(cols_, rows_);
        for (std::size_t i = 0; i < rows_; ++i) {
            for (std::size_t j = 0; j < cols_; ++j) {
                result(j, i) = (*this)(i, j);
            }
        }
        return result;
    }

    double trace() const {
        double sum = 0.0;
        for (std::size_t i = 0; i < std::min(rows_, cols_); ++i) {
            sum += (*this)(i, i);
        }
        return sum;
    }

    double frobenius() const {
        const double squares = std::inner_product(data_.begin(), data_.end(), data_.begin(), 0.0);
        return std::sqrt(squares);
    }

    std::string to_string() const {
        std::string out;
        for (std::size_t i = 0; i < rows_; ++i) {
            out += "[";
            for (std::size_t j = 0; j < cols_; ++j) {
                if (j > 0) {
                    out += ", ";
                }
                out += std::to_string((*this)(i, j));
            }
            out += "]\n";
        }
        return out;
    }

private:
    std::size_t rows_;
    std::size_t cols_;
    std::vector<double> data_;
};

// Solves A x = b by Gaussian elimination with partial pivoting.
std::vector<double> solve(Matrix a, std::vector<double> b) {
    const std::size_t n = a.rows();
    if (a.cols() != n || b.size() != n) {
        throw std::invalid_argument("solve needs a square system");
    }
    for (std::size_t column = 0; column < n; ++column) {
        std::size_t pivot = column;
        for (std::size_t row = column + 1; row < n; ++row) {
            if (std::fabs(a(row, column)) > std::fabs(a(pivot, column))) {
                pivot = row;
            }
        }
        if (std::fabs(a(pivot, column)) < 1e-12) {
            throw std::runtime_error("matrix is singular");
        }
        if (pivot != column) {
            for (std::size_t j = 0; j < n; ++j) {
                std::swap(a(pivot, j), a(column, j));
            }
            std::swap(b[pivot], b[column]);
        }
        for (std::size_t row = column + 1; row < n; ++row) {
            const double factor = a(row, column) / a(column, column);
            for (std::size_t j = column; j < n; ++j) {
                a(row, j) -= factor * a(column, j);
            }
            b[row] -= factor * b[column];
        }
    }
    std::vector<double> x(n);
    for (std::size_t i = n; i-- > 0;) {
        double sum = b[i];
        for (std::size_t j = i + 1; j < n; ++j) {
            sum -= a(i, j) * x[j];
        }
        x[i] = sum / a(i, i);
    }
    return x;
}

}  // namespace linalg

int main() {
    linalg::Matrix a(2, 2);
    a(0, 0) = 4.0;
    a(0, 1) = 1.0;
    a(1, 0) = 2.0;
    a(1, 1) = 3.0;
    const std::vector<double> x = linalg::solve(a, {1.0, 2.0});
    std::cout << "x = " << x[0] << ", " << x[1] << "\n";
    std::cout << (a * linalg::Matrix::identity(2)).to_string();
    return 0;
}
