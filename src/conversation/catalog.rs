//! The catalogue of end-user texts of the conversation, in pt-BR, es and en. A text is named by
//! a [`TextKey`]; its placeholders (`{ticket}`, `{activity}`...) are the [`Arg`]s the key
//! declares. It sits below both the replies that name its keys (`effect`) and the rendering
//! (`texts`), which is where callers find these types.

use serde::{Deserialize, Serialize};

use crate::lang::Language;

/// A value substituted into a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    Ticket,
    Subject,
    Activity,
    Description,
    Title,
    Summary,
    Group,
    Attendant,
    Limit,
    Text,
}

impl Arg {
    /// The placeholder name, as in `{ticket}`.
    pub fn name(self) -> &'static str {
        match self {
            Arg::Ticket => "ticket",
            Arg::Subject => "subject",
            Arg::Activity => "activity",
            Arg::Description => "description",
            Arg::Title => "title",
            Arg::Summary => "summary",
            Arg::Group => "group",
            Arg::Attendant => "attendant",
            Arg::Limit => "limit",
            Arg::Text => "text",
        }
    }
}

/// Declares the text keys, the arguments each one takes and its three translations, so that a
/// key can never lack a language and `TextKey::ALL` is always complete.
macro_rules! texts {
    ($( $(#[$doc:meta])* $key:ident [$($arg:ident),*] {
        pt: $pt:literal,
        es: $es:literal,
        en: $en:literal $(,)?
    } )*) => {
        /// Every end-user text of the conversation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum TextKey {
            $( $(#[$doc])* $key, )*
        }

        impl TextKey {
            pub const ALL: &'static [TextKey] = &[$(TextKey::$key),*];

            /// The arguments the text expects.
            pub fn args(self) -> &'static [Arg] {
                match self {
                    $( TextKey::$key => &[$(Arg::$arg),*], )*
                }
            }

            /// The raw template in `language`.
            pub fn template(self, language: Language) -> &'static str {
                let [pt, es, en] = match self {
                    $( TextKey::$key => [$pt, $es, $en], )*
                };
                match language {
                    Language::PtBr => pt,
                    Language::Es => es,
                    Language::En => en,
                }
            }
        }
    };
}

texts! {
    // ----- Opening, help and courtesy -----
    /// Assistant greeting (423 on).
    AssistantGreeting [] {
        pt: "Olá! Eu sou a Ponte, a assistente virtual da central de serviços.",
        es: "¡Hola! Soy Ponte, la asistente virtual de la mesa de servicio.",
        en: "Hi! I'm Ponte, the service desk's virtual assistant.",
    }
    /// What the assistant can do (greeting and "help").
    AssistantHelp [] {
        pt: "Escreva com suas palavras o que você precisa: posso encontrar artigos de ajuda, abrir um chamado, retomar um dos seus chamados ou chamar um atendente. Para recomeçar, digite \"cancelar\".",
        es: "Escriba con sus palabras lo que necesita: puedo buscar artículos de ayuda, abrir un ticket, retomar uno de sus tickets o pasarlo con un agente. Para empezar de nuevo, escriba \"cancelar\".",
        en: "Tell me in your own words what you need: I can find help articles, open a ticket, resume one of your tickets or get you an attendant. To start over, type \"cancel\".",
    }
    /// Smart Chat greeting with its three options (423 off).
    SmartChatGreeting [] {
        pt: "Olá! Como podemos ajudar? Escolha uma opção ou digite o que você procura.",
        es: "¡Hola! ¿En qué podemos ayudarle? Elija una opción o escriba lo que busca.",
        en: "Hi! How can we help? Choose an option or type what you're looking for.",
    }
    /// What Smart Chat can do ("help" with 423 off).
    SmartChatHelp [] {
        pt: "Você pode abrir um chamado, procurar um serviço pelo nome ou buscar um artigo pelo título. Para recomeçar, digite \"cancelar\".",
        es: "Puede abrir un ticket, buscar un servicio por su nombre o buscar un artículo por su título. Para empezar de nuevo, escriba \"cancelar\".",
        en: "You can open a ticket, look for a service by its name or find an article by its title. To start over, type \"cancel\".",
    }
    /// Smart Chat menu shown again when a flow ends.
    SmartChatMenu [] {
        pt: "O que você gostaria de fazer?",
        es: "¿Qué le gustaría hacer?",
        en: "What would you like to do?",
    }
    /// Assistant prompt when a flow ends.
    AnythingElse [] {
        pt: "Posso ajudar em mais alguma coisa?",
        es: "¿Le puedo ayudar con algo más?",
        en: "Can I help you with anything else?",
    }
    /// Assistant prompt when asked again what the requester wants.
    HowCanIHelp [] {
        pt: "Como posso ajudar?",
        es: "¿En qué le puedo ayudar?",
        en: "How can I help?",
    }
    /// Mode manual: the chat goes straight to people.
    ManualGreeting [Group] {
        pt: "Olá! Vou encaminhar você para um atendente da fila {group}. Aguarde só um momento.",
        es: "¡Hola! Lo paso con un agente de la cola {group}. Espere un momento, por favor.",
        en: "Hi! I'm passing you to an attendant from the {group} queue. Please wait a moment.",
    }
    /// Talk to an attendant without a ticket (mode manual, mid-conversation).
    ConnectingToAttendant [Group] {
        pt: "Certo, vou encaminhar você para um atendente da fila {group}. Aguarde só um momento.",
        es: "De acuerdo, lo paso con un agente de la cola {group}. Espere un momento, por favor.",
        en: "OK, I'm passing you to an attendant from the {group} queue. Please wait a moment.",
    }
    GreetingAgain [] {
        pt: "Olá de novo!",
        es: "¡Hola de nuevo!",
        en: "Hello again!",
    }
    YoureWelcome [] {
        pt: "De nada!",
        es: "¡De nada!",
        en: "You're welcome!",
    }
    Goodbye [] {
        pt: "Obrigada pelo contato. Até logo!",
        es: "Gracias por escribirnos. ¡Hasta luego!",
        en: "Thanks for getting in touch. Goodbye!",
    }
    Cancelled [] {
        pt: "Tudo bem, cancelei.",
        es: "De acuerdo, lo cancelé.",
        en: "OK, I've cancelled that.",
    }
    NothingToCancel [] {
        pt: "Não há nada em andamento para cancelar.",
        es: "No hay nada en curso que cancelar.",
        en: "There's nothing in progress to cancel.",
    }
    NotUnderstood [] {
        pt: "Desculpe, não entendi.",
        es: "Perdón, no entendí.",
        en: "Sorry, I didn't get that.",
    }
    /// Unclear text while options are offered; the options are offered again.
    ChooseAnOption [] {
        pt: "Desculpe, não entendi. Escolha uma das opções abaixo.",
        es: "Perdón, no entendí. Elija una de las opciones de abajo.",
        en: "Sorry, I didn't get that. Please choose one of the options below.",
    }
    /// Text while a ticket is being opened, listed or attached.
    PleaseWait [] {
        pt: "Só um momento, ainda estou cuidando do seu pedido.",
        es: "Un momento, todavía estoy atendiendo su solicitud.",
        en: "One moment, I'm still working on your request.",
    }

    // ----- Creating a ticket -----
    AskDescription [] {
        pt: "Claro. Descreva em poucas palavras o problema ou o que você precisa.",
        es: "Claro. Describa en pocas palabras el problema o lo que necesita.",
        en: "Sure. Please describe the problem or what you need in a few words.",
    }
    AskDescriptionFor [Activity] {
        pt: "Claro, um chamado de \"{activity}\". Descreva em poucas palavras o que você precisa.",
        es: "Claro, un ticket de \"{activity}\". Describa en pocas palabras lo que necesita.",
        en: "Sure, a ticket for \"{activity}\". Please describe what you need in a few words.",
    }
    AskDescriptionForAttendant [] {
        pt: "Claro. Para eu encaminhar você a um atendente, conte rapidamente do que se trata.",
        es: "Claro. Para pasarlo con un agente, cuénteme brevemente de qué se trata.",
        en: "Sure. So I can pass you to an attendant, tell me briefly what it's about.",
    }
    DescriptionNeeded [] {
        pt: "Para abrir o chamado, ainda preciso de uma breve descrição do problema.",
        es: "Para abrir el ticket, todavía necesito una breve descripción del problema.",
        en: "To open the ticket, I still need a short description of the problem.",
    }
    RewriteDescription [] {
        pt: "Sem problemas. Escreva a descrição de novo, ou digite \"cancelar\" para desistir.",
        es: "No hay problema. Escriba la descripción de nuevo, o escriba \"cancelar\" para dejarlo.",
        en: "No problem. Write the description again, or type \"cancel\" to stop.",
    }
    ConfirmTicket [Description] {
        pt: "Posso abrir um chamado com esta descrição?\n\"{description}\"",
        es: "¿Abro un ticket con esta descripción?\n\"{description}\"",
        en: "Shall I open a ticket with this description?\n\"{description}\"",
    }
    ConfirmTicketFor [Activity, Description] {
        pt: "Posso abrir um chamado de \"{activity}\" com esta descrição?\n\"{description}\"",
        es: "¿Abro un ticket de \"{activity}\" con esta descripción?\n\"{description}\"",
        en: "Shall I open a ticket for \"{activity}\" with this description?\n\"{description}\"",
    }
    CreatingTicket [] {
        pt: "Certo, estou abrindo o seu chamado…",
        es: "Bien, estoy abriendo su ticket…",
        en: "Great, I'm opening your ticket…",
    }
    /// Ticket opened and the chat queued for a person (modes both and manual).
    TicketCreatedQueued [Ticket] {
        pt: "Seu chamado {ticket} foi aberto. Um atendente vai entrar nesta conversa em breve; enquanto isso, você pode continuar escrevendo aqui.",
        es: "Su ticket {ticket} fue abierto. Un agente se unirá a esta conversación en breve; mientras tanto, puede seguir escribiendo aquí.",
        en: "Your ticket {ticket} is open. An attendant will join this chat shortly; meanwhile, you can keep writing here.",
    }
    /// Ticket opened, no live chat (mode automatic).
    TicketCreatedNoChat [Ticket] {
        pt: "Seu chamado {ticket} foi aberto. Nossa equipe vai dar andamento e responder por ele.",
        es: "Su ticket {ticket} fue abierto. Nuestro equipo le dará seguimiento y le responderá por allí.",
        en: "Your ticket {ticket} is open. Our team will follow up and reply on it.",
    }
    TicketCreationFailed [] {
        pt: "Desculpe, não consegui abrir o chamado agora. Quer tentar de novo?",
        es: "Perdón, no pude abrir el ticket ahora. ¿Quiere intentarlo de nuevo?",
        en: "Sorry, I couldn't open the ticket just now. Do you want to try again?",
    }

    // ----- Activities and open tickets -----
    AskActivityQuery [] {
        pt: "Digite o nome do serviço que você procura.",
        es: "Escriba el nombre del servicio que busca.",
        en: "Type the name of the service you're looking for.",
    }
    ActivityFound [Activity] {
        pt: "Encontrei o serviço \"{activity}\". O que você quer fazer?",
        es: "Encontré el servicio \"{activity}\". ¿Qué quiere hacer?",
        en: "I found the service \"{activity}\". What would you like to do?",
    }
    NoActivityFound [] {
        pt: "Não encontrei nenhum serviço com esse nome. Tente outras palavras ou escolha uma opção.",
        es: "No encontré ningún servicio con ese nombre. Pruebe con otras palabras o elija una opción.",
        en: "I couldn't find a service with that name. Try other words or choose an option.",
    }
    LookingUpTickets [] {
        pt: "Vou procurar os seus chamados abertos…",
        es: "Voy a buscar sus tickets abiertos…",
        en: "Let me look up your open tickets…",
    }
    ChooseTicket [] {
        pt: "Estes são os seus chamados abertos. Qual deles você quer retomar?",
        es: "Estos son sus tickets abiertos. ¿Cuál quiere retomar?",
        en: "These are your open tickets. Which one do you want to resume?",
    }
    NoOpenTickets [] {
        pt: "Você não tem chamados abertos no momento. Quer abrir um novo?",
        es: "No tiene tickets abiertos en este momento. ¿Quiere abrir uno nuevo?",
        en: "You have no open tickets right now. Would you like to open a new one?",
    }
    /// A typed or requested ticket number that is not one of the requester's open tickets.
    TicketNotYours [Ticket] {
        pt: "Não encontrei o chamado {ticket} entre os seus chamados abertos.",
        es: "No encontré el ticket {ticket} entre sus tickets abiertos.",
        en: "I couldn't find ticket {ticket} among your open tickets.",
    }
    AttachingTicket [Ticket] {
        pt: "Vinculando esta conversa ao chamado {ticket}…",
        es: "Vinculando esta conversación al ticket {ticket}…",
        en: "Linking this chat to ticket {ticket}…",
    }
    TicketAttachedQueued [Ticket] {
        pt: "Pronto! Esta conversa agora está vinculada ao chamado {ticket}. Um atendente vai continuar com você em breve.",
        es: "¡Listo! Esta conversación ahora está vinculada al ticket {ticket}. Un agente seguirá con usted en breve.",
        en: "Done! This chat is now linked to ticket {ticket}. An attendant will continue with you shortly.",
    }
    TicketAttachedNoChat [Ticket] {
        pt: "Pronto! Esta conversa agora está vinculada ao chamado {ticket}. A equipe vai responder por ele.",
        es: "¡Listo! Esta conversación ahora está vinculada al ticket {ticket}. El equipo le responderá por allí.",
        en: "Done! This chat is now linked to ticket {ticket}. The team will reply on it.",
    }
    AttachFailed [Ticket] {
        pt: "Desculpe, não consegui vincular o chamado {ticket} agora. Tente de novo em instantes.",
        es: "Perdón, no pude vincular el ticket {ticket} ahora. Inténtelo de nuevo en unos instantes.",
        en: "Sorry, I couldn't link ticket {ticket} just now. Please try again in a moment.",
    }
    LookupFailed [] {
        pt: "Desculpe, não consegui consultar os seus chamados agora. Tente de novo em instantes.",
        es: "Perdón, no pude consultar sus tickets ahora. Inténtelo de nuevo en unos instantes.",
        en: "Sorry, I couldn't look up your tickets just now. Please try again in a moment.",
    }

    // ----- Knowledge -----
    AskArticleQuery [] {
        pt: "Digite o título do artigo, ou parte dele.",
        es: "Escriba el título del artículo, o parte de él.",
        en: "Type the title of the article, or part of it.",
    }
    ArticlesFound [] {
        pt: "Encontrei estes artigos. Escolha um para ler:",
        es: "Encontré estos artículos. Elija uno para leerlo:",
        en: "I found these articles. Choose one to read it:",
    }
    NoArticleFound [] {
        pt: "Não encontrei nenhum artigo com esse título. Tente outras palavras ou escolha uma opção.",
        es: "No encontré ningún artículo con ese título. Pruebe con otras palabras o elija una opción.",
        en: "I couldn't find an article with that title. Try other words or choose an option.",
    }
    ArticleShown [Title, Summary] {
        pt: "{title}\n{summary}",
        es: "{title}\n{summary}",
        en: "{title}\n{summary}",
    }
    ArticleOpened [Title] {
        pt: "Abri o artigo \"{title}\" no portal.",
        es: "Abrí el artículo \"{title}\" en el portal.",
        en: "I've opened \"{title}\" in the portal.",
    }

    // ----- Ambiguity and fallback -----
    WhichOne [] {
        pt: "Não tenho certeza se entendi. Qual destas opções você quis dizer?",
        es: "No sé si le entendí bien. ¿Cuál de estas opciones quiso decir?",
        en: "I'm not sure I understood. Which of these did you mean?",
    }
    /// Assistant fallback when people can take the chat (mode both).
    FallbackWithAttendant [] {
        pt: "Desculpe, não encontrei uma resposta para isso. Posso chamar um atendente ou ajudar você a retomar um chamado.",
        es: "Perdón, no encontré una respuesta para eso. Puedo pasarlo con un agente o ayudarle a retomar un ticket.",
        en: "Sorry, I couldn't find an answer to that. I can get you an attendant or help you resume a ticket.",
    }
    /// Assistant fallback without live chat (mode automatic).
    FallbackWithoutChat [] {
        pt: "Desculpe, não encontrei uma resposta para isso. O atendimento por chat não está disponível, mas posso abrir um chamado para você ou ajudar a retomar um chamado.",
        es: "Perdón, no encontré una respuesta para eso. La atención por chat no está disponible, pero puedo abrir un ticket para usted o ayudarle a retomar uno.",
        en: "Sorry, I couldn't find an answer to that. Live chat isn't available, but I can open a ticket for you or help you resume one.",
    }
    /// The fallback options again, when people can take the chat.
    OfferAttendantOrResume [] {
        pt: "Posso chamar um atendente ou ajudar você a retomar um dos seus chamados.",
        es: "Puedo pasarlo con un agente o ayudarle a retomar uno de sus tickets.",
        en: "I can get you an attendant or help you resume one of your tickets.",
    }
    /// Smart Chat fallback (423 off).
    FallbackSmartChat [] {
        pt: "Não encontrei nada sobre isso. Tente outras palavras ou escolha uma opção.",
        es: "No encontré nada sobre eso. Pruebe con otras palabras o elija una opción.",
        en: "I couldn't find anything about that. Try other words or choose an option.",
    }
    /// "Talk to an attendant" in mode automatic.
    NoLiveChat [] {
        pt: "O atendimento por chat com uma pessoa não está disponível, mas posso abrir um chamado para a equipe ajudar você.",
        es: "La atención por chat con una persona no está disponible, pero puedo abrir un ticket para que el equipo le ayude.",
        en: "Live chat with a person isn't available, but I can open a ticket so the team can help you.",
    }

    // ----- With a person -----
    AttendantJoined [Attendant] {
        pt: "{attendant} entrou na conversa.",
        es: "{attendant} se unió a la conversación.",
        en: "{attendant} joined the chat.",
    }
    AttendantLeft [] {
        pt: "O atendente saiu da conversa. Aguarde, outro atendente vai continuar com você.",
        es: "El agente salió de la conversación. Espere, otro agente seguirá con usted.",
        en: "The attendant left the chat. Please wait, another attendant will continue with you.",
    }
    /// Built-in parameter 447 notice.
    OfflineNotice [] {
        pt: "No momento não há atendente disponível. Sua mensagem foi registrada e será respondida assim que possível.",
        es: "En este momento no hay agentes disponibles. Su mensaje quedó registrado y será respondido lo antes posible.",
        en: "No attendant is available right now. Your message has been saved and will be answered as soon as possible.",
    }
    /// Custom parameter 447 text, as configured.
    OfflineCustom [Text] {
        pt: "{text}",
        es: "{text}",
        en: "{text}",
    }
    /// A hand-off to an external chat service failed (refused, undeliverable, or nobody
    /// accepted in time): the chat goes to Ponte's own desk queue.
    HandoffFellBack [] {
        pt: "Não conseguimos falar com a equipe de atendimento externa agora. Você continua na fila da nossa equipe e será atendido em breve.",
        es: "No pudimos comunicarnos con el equipo de atención externo en este momento. Sigue en la fila de nuestro equipo y le atenderemos pronto.",
        en: "We couldn't reach the external support team right now. You're still in our team's queue and will be helped shortly.",
    }
    ConversationClosed [] {
        pt: "Esta conversa foi encerrada. Obrigada pelo contato!",
        es: "Esta conversación fue cerrada. ¡Gracias por escribirnos!",
        en: "This conversation has been closed. Thanks for getting in touch!",
    }

    // ----- Replies to errors -----
    ChatDisabled [] {
        pt: "O chat não está disponível no momento. Você pode abrir um chamado pelo portal.",
        es: "El chat no está disponible en este momento. Puede abrir un ticket desde el portal.",
        en: "Chat isn't available right now. You can open a ticket through the portal.",
    }
    EmptyMessage [] {
        pt: "Sua mensagem está vazia. Escreva alguma coisa para continuar.",
        es: "Su mensaje está vacío. Escriba algo para continuar.",
        en: "Your message is empty. Please type something to continue.",
    }
    MessageTooLong [Limit] {
        pt: "Sua mensagem é longa demais. Resuma em até {limit} caracteres, por favor.",
        es: "Su mensaje es demasiado largo. Resúmalo en {limit} caracteres como máximo, por favor.",
        en: "Your message is too long. Please keep it to {limit} characters or fewer.",
    }
    OptionUnavailable [] {
        pt: "Essa opção não está mais disponível. Escolha uma das opções atuais.",
        es: "Esa opción ya no está disponible. Elija una de las opciones actuales.",
        en: "That option is no longer available. Please choose one of the current options.",
    }
    ConversationEnded [] {
        pt: "Esta conversa já foi encerrada. Para falar conosco de novo, inicie uma nova conversa.",
        es: "Esta conversación ya terminó. Para hablar con nosotros de nuevo, inicie una nueva conversación.",
        en: "This conversation has ended. To talk to us again, please start a new one.",
    }

    // ----- Option labels -----
    OptionCreateTicket [] {
        pt: "Abrir um chamado",
        es: "Abrir un ticket",
        en: "Open a ticket",
    }
    OptionSearchActivity [] {
        pt: "Procurar um serviço",
        es: "Buscar un servicio",
        en: "Find a service",
    }
    OptionSearchKnowledge [] {
        pt: "Buscar na base de conhecimento",
        es: "Buscar en la base de conocimiento",
        en: "Search the knowledge base",
    }
    OptionTalkToAttendant [] {
        pt: "Falar com um atendente",
        es: "Hablar con un agente",
        en: "Talk to an attendant",
    }
    OptionResumeTicket [] {
        pt: "Retomar um chamado",
        es: "Retomar un ticket",
        en: "Resume a ticket",
    }
    OptionResumeMyTickets [] {
        pt: "Retomar um dos meus chamados abertos",
        es: "Retomar uno de mis tickets abiertos",
        en: "Resume one of my open tickets",
    }
    OptionNewTicketFor [Activity] {
        pt: "Abrir um novo chamado de \"{activity}\"",
        es: "Abrir un nuevo ticket de \"{activity}\"",
        en: "Open a new ticket for \"{activity}\"",
    }
    OptionYes [] {
        pt: "Sim",
        es: "Sí",
        en: "Yes",
    }
    OptionNo [] {
        pt: "Não",
        es: "No",
        en: "No",
    }
    OptionNotNow [] {
        pt: "Agora não",
        es: "Ahora no",
        en: "Not now",
    }
    OptionTicket [Ticket, Subject] {
        pt: "{ticket} — {subject}",
        es: "{ticket} — {subject}",
        en: "{ticket} — {subject}",
    }
    OptionTicketNumber [Ticket] {
        pt: "Chamado {ticket}",
        es: "Ticket {ticket}",
        en: "Ticket {ticket}",
    }
    OptionArticle [Title] {
        pt: "{title}",
        es: "{title}",
        en: "{title}",
    }
    OptionNoneOfThese [] {
        pt: "Nenhum destes",
        es: "Ninguno de estos",
        en: "None of these",
    }
    OptionView [] {
        pt: "Ver o artigo completo",
        es: "Ver el artículo completo",
        en: "View the full article",
    }
    OptionClose [] {
        pt: "Fechar",
        es: "Cerrar",
        en: "Close",
    }
    OptionActivityCandidate [Activity] {
        pt: "Serviço: {activity}",
        es: "Servicio: {activity}",
        en: "Service: {activity}",
    }
    OptionArticleCandidate [Title] {
        pt: "Artigo: {title}",
        es: "Artículo: {title}",
        en: "Article: {title}",
    }
    OptionGreeting [] {
        pt: "Só quis dar um oi",
        es: "Solo quería saludar",
        en: "Just saying hello",
    }
    OptionThanks [] {
        pt: "Agradecer",
        es: "Dar las gracias",
        en: "Say thanks",
    }
    OptionGoodbye [] {
        pt: "Encerrar a conversa",
        es: "Terminar la conversación",
        en: "End the chat",
    }
    OptionHelp [] {
        pt: "Saber o que você pode fazer",
        es: "Saber en qué me puede ayudar",
        en: "See what you can do",
    }
    OptionCancel [] {
        pt: "Cancelar",
        es: "Cancelar",
        en: "Cancel",
    }
}
