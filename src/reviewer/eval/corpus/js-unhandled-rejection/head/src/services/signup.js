'use strict';

const { hashPassword } = require('./passwords');
const mailer = require('./mailer');
const users = require('../db/users');

async function signUp({ email, password, name }) {
  const existing = await users.findByEmail(email);
  if (existing) {
    const err = new Error('email already registered');
    err.status = 409;
    throw err;
  }
  const hash = await hashPassword(password);
  const user = await users.create({ email, name, passwordHash: hash });
  // Do not make the user wait for the mail server.
  mailer.send({ to: email, template: 'welcome', data: { name } });
  return { id: user.id, email: user.email };
}

module.exports = { signUp };
