const TOAST_MS = 5000;
const GENERIC = "Something went wrong. Please try again.";

export function showToast(kind: "info" | "error", text: string): void {
  const host = document.getElementById("toasts");
  if (!host) return;
  const toast = document.createElement("div");
  toast.className = `toast toast-${kind}`;
  toast.textContent = text;
  host.append(toast);
  window.setTimeout(() => toast.remove(), TOAST_MS);
}

export async function showRequestError(response: Response): Promise<void> {
  let message = GENERIC;
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object" && "message" in body && typeof body.message === "string") {
      message = body.message.slice(0, 300);
    }
  } catch {
    // Not JSON: keep the generic text.
  }
  showToast("error", message);
}
