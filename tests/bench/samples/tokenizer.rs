//! A small tokenizer and expression evaluator for arithmetic with variables.

use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Number(f64),
    Ident(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    UnexpectedChar(char, usize),
    UnexpectedEnd,
    UnexpectedToken(Token),
    UnknownVariable(String),
    UnknownFunction(String),
    DivisionByZero,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnexpectedChar(c, pos) => write!(f, "unexpected '{}' at {}", c, pos),
            Error::UnexpectedEnd => write!(f, "unexpected end of input"),
            Error::UnexpectedToken(t) => write!(f, "unexpected token {:?}", t),
            Error::UnknownVariable(name) => write!(f, "unknown variable {}", name),
            Error::UnknownFunction(name) => write!(f, "unknown function {}", name),
            Error::DivisionByZero => write!(f, "division by zero"),
        }
    }
}

impl std::error::Error for Error {}

pub fn tokenize(input: &str) -> Result<Vec<Token>, Error> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut pos = 0;
    while pos < chars.len() {
        let c = chars[pos];
        if c.is_whitespace() {
            pos += 1;
            continue;
        }
        if c.is_ascii_digit() || c == '.' {
            let start = pos;
            while pos < chars.len() && (chars[pos].is_ascii_digit() || chars[pos] == '.') {
                pos += 1;
            }
            let text: String = chars[start..pos].iter().collect();
            let value = text.parse::<f64>().map_err(|_| Error::UnexpectedChar(c, start))?;
            tokens.push(Token::Number(value));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = pos;
            while pos < chars.len() && (chars[pos].is_alphanumeric() || chars[pos] == '_') {
                pos += 1;
            }
            tokens.push(Token::Ident(chars[start..pos].iter().collect()));
            continue;
        }
        let token = match c {
            '+' => Token::Plus,
            '-' => Token::Minus,
            '*' => Token::Star,
            '/' => Token::Slash,
            '^' => Token::Caret,
            '(' => Token::LParen,
            ')' => Token::RParen,
            ',' => Token::Comma,
            other => return Err(Error::UnexpectedChar(other, pos)),
        };
        tokens.push(token);
        pos += 1;
    }
    Ok(tokens)
}

pub struct Evaluator<'a> {
    tokens: &'a [Token],
    pos: usize,
    variables: &'a HashMap<String, f64>,
}

impl<'a> Evaluator<'a> {
    pub fn new(tokens: &'a [Token], variables: &'a HashMap<String, f64>) -> Self {
        Evaluator { tokens, pos: 0, variables }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    pub fn expression(&mut self) -> Result<f64, Error> {
        let mut value = self.term()?;
        while let Some(token) = self.peek() {
            match token {
                Token::Plus => {
                    self.next();
                    value += self.term()?;
                }
                Token::Minus => {
                    self.next();
                    value -= self.term()?;
                }
                _ => break,
            }
        }
        Ok(value)
    }

    fn term(&mut self) -> Result<f64, Error> {
        let mut value = self.power()?;
        loop {
            match self.peek() {
                Some(Token::Star) => {
                    self.next();
                    value *= self.power()?;
                }
                Some(Token::Slash) => {
                    self.next();
                    let divisor = self.power()?;
                    if divisor == 0.0 {
                        return Err(Error::DivisionByZero);
                    }
                    value /= divisor;
                }
                _ => return Ok(value),
            }
        }
    }

    fn power(&mut self) -> Result<f64, Error> {
        let base = self.unary()?;
        if let Some(Token::Caret) = self.peek() {
            self.next();
            let exponent = self.power()?;
            return Ok(base.powf(exponent));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<f64, Error> {
        match self.next() {
            Some(Token::Minus) => Ok(-self.unary()?),
            Some(Token::Number(value)) => Ok(value),
            Some(Token::LParen) => {
                let value = self.expression()?;
                match self.next() {
                    Some(Token::RParen) => Ok(value),
                    Some(other) => Err(Error::UnexpectedToken(other)),
                    None => Err(Error::UnexpectedEnd),
                }
            }
            Some(Token::Ident(name)) => self.call_or_variable(name),
            Some(other) => Err(Error::UnexpectedToken(other)),
            None => Err(Error::UnexpectedEnd),
        }
    }

    fn call_or_variable(&mut self, name: String) -> Result<f64, Error> {
        if let Some(Token::LParen) = self.peek() {
            self.next();
            let mut args = vec![self.expression()?];
            while let Some(Token::Comma) = self.peek() {
                self.next();
                args.push(self.expression()?);
            }
            if self.next() != Some(Token::RParen) {
                return Err(Error::UnexpectedEnd);
            }
            return apply(&name, &args);
        }
        self.variables
            .get(&name)
            .copied()
            .ok_or(Error::UnknownVariable(name))
    }
}

fn apply(name: &str, args: &[f64]) -> Result<f64, Error> {
    let value = match (name, args) {
        ("sqrt", [x]) => x.sqrt(),
        ("abs", [x]) => x.abs(),
        ("min", [a, b]) => a.min(*b),
        ("max", [a, b]) => a.max(*b),
        ("sum", values) => values.iter().sum(),
        _ => return Err(Error::UnknownFunction(name.to_string())),
    };
    Ok(value)
}

pub fn evaluate(input: &str, variables: &HashMap<String, f64>) -> Result<f64, Error> {
    let tokens = tokenize(input)?;
    let mut evaluator = Evaluator::new(&tokens, variables);
    let value = evaluator.expression()?;
    if let Some(token) = evaluator.next() {
        return Err(Error::UnexpectedToken(token));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(input: &str) -> Result<f64, Error> {
        let mut variables = HashMap::new();
        variables.insert("x".to_string(), 3.0);
        evaluate(input, &variables)
    }

    #[test]
    fn precedence() {
        assert_eq!(eval("1 + 2 * 3"), Ok(7.0));
        assert_eq!(eval("(1 + 2) * 3"), Ok(9.0));
        assert_eq!(eval("2 ^ 3 ^ 2"), Ok(512.0));
    }

    #[test]
    fn functions_and_variables() {
        assert_eq!(eval("max(x, 10) - sqrt(16)"), Ok(6.0));
        assert_eq!(eval("y"), Err(Error::UnknownVariable("y".to_string())));
    }
}
