/** The outcome of an action, said once next to where it was taken (and announced to screen readers). */
export interface NoticeMessage {
  ok: boolean;
  text: string;
}

export function Notice({ message }: { message: NoticeMessage | null }) {
  if (!message) return null;
  return (
    <p className={message.ok ? 'notice' : 'form-error'} role="status">
      {message.text}
    </p>
  );
}
