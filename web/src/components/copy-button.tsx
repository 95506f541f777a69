import { useState } from 'react';

/** Copies an id (e.g. for the operator page); the clipboard API needs a secure context, so it may be missing. */
export function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  if (!navigator.clipboard) return null;
  return (
    <button
      type="button"
      className="link small"
      onClick={() =>
        void navigator.clipboard.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        })
      }
    >
      {copied ? 'Copied ✓' : 'Copy'}
    </button>
  );
}
