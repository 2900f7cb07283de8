const TOAST_MS = 5000;

export function showToast(kind: "info" | "error", text: string): void {
  const host = document.getElementById("toasts");
  if (!host) return;
  const toast = document.createElement("div");
  toast.className = `toast toast-${kind}`;
  toast.textContent = text;
  host.append(toast);
  window.setTimeout(() => toast.remove(), TOAST_MS);
}

export function showRequestError(_response: Response): void {
  showToast("error", "Something went wrong. Please try again.");
}
