"""Staff bind their WeChat account with a one-time code an operator made with `mulin staff invite`."""
from __future__ import annotations

from handlers.context import Ctx
from storage.staff import BindError, redeem_bind_code


def redeem(ctx: Ctx, code: str) -> str:
    if not ctx.msg.is_private:
        return "请私聊我发送绑定码，不要在群里发。"
    try:
        staff_id = redeem_bind_code(session=ctx.session, code=code.strip(), wechat_id=ctx.msg.sender_id, now=ctx.now)
    except BindError as exc:
        return str(exc)
    ctx.deps.directory.bind(staff_id, ctx.msg.sender_id)
    staff = ctx.config.staff_by_id(staff_id)
    return f"绑定成功！您好，{staff.name if staff else staff_id}。发“帮助”查看可用指令。"
