'use strict';

function renderComment(comment) {
  const item = document.createElement('li');
  item.className = 'comment';
  item.innerHTML = `<strong>${comment.author}</strong>: ${comment.text}`;
  return item;
}

function renderComments(list, comments) {
  list.replaceChildren(...comments.map(renderComment));
}

async function loadComments(postId) {
  const res = await fetch(`/api/posts/${encodeURIComponent(postId)}/comments`);
  if (!res.ok) throw new Error(`comments: HTTP ${res.status}`);
  renderComments(document.getElementById('comments'), await res.json());
}

window.loadComments = loadComments;
