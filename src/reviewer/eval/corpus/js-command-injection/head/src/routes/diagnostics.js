'use strict';

const express = require('express');
const os = require('os');
const { exec } = require('child_process');

const router = express.Router();

router.get('/health', (req, res) => {
  res.json({
    status: 'ok',
    uptime: process.uptime(),
    load: os.loadavg(),
  });
});

router.get('/ping', (req, res) => {
  const host = String(req.query.host || '');
  if (!host) {
    return res.status(400).json({ error: 'host is required' });
  }
  exec(`ping -c 3 -W 2 ${host}`, { timeout: 10000 }, (err, stdout) => {
    res.json({ host, reachable: !err, output: stdout });
  });
});

router.get('/version', (req, res) => {
  res.json({ version: process.env.APP_VERSION || 'dev' });
});

module.exports = router;
